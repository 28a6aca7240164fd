import {
  BASE62,
  CHECKSUM_LENGTH,
  SECRET_LENGTH,
  crc32,
  toBase62,
} from "../../src/component/apiKeys/format.js";

/** Splits a well-formed key into its parts. */
export function partsOf(key: string) {
  const tailAt = key.lastIndexOf("_");
  const idAt = key.lastIndexOf("_", tailAt - 1);
  return {
    prefix: key.slice(0, idAt),
    keyId: key.slice(idAt + 1, tailAt),
    secret: key.slice(tailAt + 1, tailAt + 1 + SECRET_LENGTH),
  };
}

/** Builds a well-formed key (valid checksum) from parts. */
export function forge(prefix: string, keyId: string, secret: string): string {
  const body = `${prefix}_${keyId}_${secret}`;
  return body + toBase62(crc32(body), CHECKSUM_LENGTH);
}

/** The same key id with a different secret: passes the checksum, fails the digest. */
export function wrongSecret(key: string): string {
  const { prefix, keyId, secret } = partsOf(key);
  const c = secret[0] === "A" ? "B" : "A";
  return forge(prefix, keyId, c + secret.slice(1));
}

/** A well-formed key for a key id that does not exist. */
export function unknownKey(prefix: string): string {
  return forge(prefix, "0".repeat(16), BASE62[5]!.repeat(SECRET_LENGTH));
}
