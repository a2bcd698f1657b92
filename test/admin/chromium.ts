// Headless Chromium for the nsqadmin browser tests: Debian's /usr/bin/chromium
// driven by playwright-core (the tests skip when it is not installed).
import * as fs from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export const hasChromium = (): boolean => fs.existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * page.goto, navigating again when Chromium aborts the load with
 * ERR_NETWORK_CHANGED: it does so when the host's network interfaces change
 * (containers coming and going on a shared machine), which is not what any
 * test here is about.
 */
export async function navigate(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (e) {
      if (attempt >= 3 || !String(e).includes("ERR_NETWORK_CHANGED")) throw e;
    }
  }
}
