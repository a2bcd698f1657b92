// The logger every component receives (X-LOG). The implementation over consola
// lives in ./logger.ts; components only see this interface.

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  fatal(message: string): void;
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
};
