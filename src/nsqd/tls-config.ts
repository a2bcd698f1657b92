// D-BEH-TLS: the server TLS configuration built from --tls-cert, --tls-key,
// --tls-root-ca-file, --tls-client-auth-policy and --tls-min-version, shared by
// the TCP upgrade (tls_v1) and the HTTPS listener.
import type { FileSystem, TlsServerOptions } from "../runtime/types.ts";
import type { NsqdOptions } from "./options.ts";
import { errorText } from "../common/errors.ts";

const MIN_VERSIONS: Readonly<Record<string, TlsServerOptions["minVersion"]>> = {
  "": "TLSv1",
  "tls1.0": "TLSv1",
  "tls1.1": "TLSv1.1",
  "tls1.2": "TLSv1.2",
  "tls1.3": "TLSv1.3",
};

/**
 * The server options, or null when neither cert nor key is set. Throws
 * `failed to build TLS config - ...` for unreadable files or a bad CA file.
 */
export function buildTlsOptions(o: NsqdOptions, fs: FileSystem): TlsServerOptions | null {
  if (o.tls_cert === "" && o.tls_key === "") return null;
  try {
    const cert = fs.readText(o.tls_cert);
    const key = fs.readText(o.tls_key);
    if (!cert.includes("-----BEGIN")) throw new Error(`${o.tls_cert}: no PEM certificate found`);
    if (!key.includes("-----BEGIN")) throw new Error(`${o.tls_key}: no PEM private key found`);
    const minVersion = MIN_VERSIONS[o.tls_min_version.toLowerCase()];
    if (minVersion === undefined) throw new Error(`unknown --tls-min-version ${o.tls_min_version}`);
    const options: TlsServerOptions = { cert, key, minVersion };
    if (o.tls_root_ca_file !== "") {
      const ca = fs.readText(o.tls_root_ca_file);
      if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new Error("failed to append certificate to pool");
      options.ca = ca;
    }
    // Go's tls.RequireAnyClientCert / RequireAndVerifyClientCert / NoClientCert.
    // `require` asks for a certificate without verifying it; requireCert makes
    // the HTTPS listener drop a peer that sent none (runtime serveHttp), and
    // the TCP upgrade refuses such a peer itself (client-v2.ts).
    if (o.tls_client_auth_policy === "require") {
      options.requestCert = true;
      options.rejectUnauthorized = false;
      options.requireCert = true;
    } else if (o.tls_client_auth_policy === "require-verify") {
      options.requestCert = true;
      options.rejectUnauthorized = true;
      options.requireCert = true;
    }
    return options;
  } catch (e) {
    throw new Error(`failed to build TLS config - ${errorText(e)}`);
  }
}
