// Version reporting (X-VERSION): we report the original's version so clients,
// nsqadmin's semver checks and scripts see the release they expect.

export const VERSION = "1.3.0";

/** `<app> v1.3.0 (built w/<runtime version>)`, as the daemons print for --version. */
export function versionString(app: string, runtimeVersion: string): string {
  return `${app} v${VERSION} (built w/${runtimeVersion})`;
}
