// U-CLI-DEFAULTS / U-CLI-OPTS: go-nsq option names, defaults and parsing.
import { describe, expect, test } from "vitest";
import { Config, ConfigOptionError } from "../../src/client/config.ts";

describe("Config", () => {
  test("U-CLI-DEFAULTS: go-nsq defaults", () => {
    const v = new Config({}, "box.example.com").values;
    expect(v).toMatchObject({
      dial_timeout: 1000,
      read_timeout: 60_000,
      write_timeout: 1000,
      lookupd_poll_interval: 60_000,
      lookupd_poll_jitter: 0.3,
      max_in_flight: 1,
      max_attempts: 5,
      default_requeue_delay: 90_000,
      max_requeue_delay: 900_000,
      backoff_multiplier: 1000,
      max_backoff_duration: 120_000,
      low_rdy_idle_timeout: 10_000,
      low_rdy_timeout: 30_000,
      rdy_redistribute_interval: 5000,
      heartbeat_interval: 30_000,
      output_buffer_size: 16384,
      output_buffer_timeout: 250,
      deflate_level: 6,
      client_id: "box",
      hostname: "box.example.com",
      user_agent: "go-nsq/1.1.0",
    });
  });

  test("U-CLI-OPTS: key,value strings with Go syntax; bare key means true", () => {
    const c = new Config();
    c.setOpt("max_attempts,10");
    c.setOpt("lookupd_poll_interval,15s");
    c.setOpt("backoff_strategy,full_jitter");
    c.setOpt("max_backoff_duration,0");
    c.setOpt("msg_timeout,1500");
    c.setOpt("tls_insecure_skip_verify");
    c.setOpt("auth_secret,a,b");
    c.setOpt("max-in-flight,7");
    expect(c.values).toMatchObject({
      max_attempts: 10,
      lookupd_poll_interval: 15_000,
      backoff_strategy: "full_jitter",
      max_backoff_duration: 0,
      msg_timeout: 1500,
      tls_insecure_skip_verify: true,
      auth_secret: "a,b",
      max_in_flight: 7,
    });
  });

  test("bad names, values and ranges are refused with the value in the message", () => {
    const c = new Config();
    expect(() => c.setOpt("bogus,1")).toThrow(new ConfigOptionError("invalid option bogus"));
    expect(() => c.setOpt("max_attempts,x")).toThrow(/max_attempts \(x\)/);
    expect(() => c.setOpt("max_attempts,70000")).toThrow(/invalid max_attempts ! 70000 > 65535/);
    expect(() => c.setOpt("sample_rate,100")).toThrow(ConfigOptionError);
    expect(() => c.setOpt("read_timeout,1ms")).toThrow(/invalid read_timeout ! 1ms < 100ms/);
    expect(() => c.setOpt("backoff_strategy,linear")).toThrow(ConfigOptionError);
    expect(() => c.setOpt("tls_v1,maybe")).toThrow(/ParseBool/);
  });

  test("TLS, snappy and deflate pass validation; snappy with deflate, or half a key pair, do not", () => {
    for (const opt of ["tls_v1", "snappy", "deflate", "tls_insecure_skip_verify", "tls_min_version,tls1.2"]) {
      const c = new Config();
      c.setOpt(opt);
      expect(() => c.validate(), opt).not.toThrow();
    }
    const both = new Config({ snappy: true, deflate: true });
    expect(() => both.validate()).toThrow(new ConfigOptionError("cannot enable both snappy and deflate"));
    const half = new Config({ tls_v1: true, tls_key: "client.key" });
    expect(() => half.validate()).toThrow(/tls_cert and tls_key must be given together/);
    const c = new Config({ heartbeat_interval: 70_000 });
    expect(() => c.validate()).toThrow(/HeartbeatInterval/);
  });
});
