// Venue keys sealed in the browser, as the CLI seals them (plutarc_cli.exchange_client.seal): a
// libsodium sealed box (crypto_box_seal: X25519, XSalsa20-Poly1305, an ephemeral sender key) of
// the keys' JSON, to the gateway's public key, in URL-safe base64. Only the gateway, holding the
// private key, opens it (plutarc_exchange.sealing). Loaded on demand (import("./seal")), so the
// cryptography is not in the first load.
//
// Built on the audited noble libraries (@noble/curves x25519, @noble/ciphers XSalsa20-Poly1305
// and HSalsa20, @noble/hashes BLAKE2b):
//   ephemeral key pair (epk, esk); nonce = BLAKE2b-192(epk || pk);
//   k = HSalsa20(X25519(esk, pk), 0^16)            (crypto_box_beforenm)
//   sealed = epk || XSalsa20-Poly1305(k, nonce)(m)  (tag then ciphertext, as crypto_box_easy)
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { u32, u8 } from "@noble/ciphers/utils.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { blake2b } from "@noble/hashes/blake2.js";

/** A venue's keys as the gateway reads them (ccxt's names; `password`: OKX's, KuCoin's passphrase). */
export type VenueKeys = { api_key: string; secret: string; password?: string; uid?: string };

const SIGMA = u32(new TextEncoder().encode("expand 32-byte k"));

export function fromBase64Url(text: string): Uint8Array {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

export function toBase64Url(bytes: Uint8Array): string {
  let plain = "";
  for (const b of bytes) plain += String.fromCharCode(b);
  return btoa(plain).replace(/\+/g, "-").replace(/\//g, "_");
}

/** libsodium's crypto_box_seal of `message` to `recipient` (a 32-byte X25519 public key). */
export function sealedBox(recipient: Uint8Array, message: Uint8Array): Uint8Array {
  if (recipient.length !== 32) throw new Error("the sealing key is not an X25519 public key");
  const esk = x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(esk);
  const input = new Uint8Array(64);
  input.set(epk, 0);
  input.set(recipient, 32);
  const nonce = blake2b(input, { dkLen: 24 });
  const shared = x25519.getSharedSecret(esk, recipient);
  const key = new Uint32Array(8);
  hsalsa(SIGMA, u32(shared), new Uint32Array(4), key);
  const boxed = xsalsa20poly1305(u8(key), nonce).encrypt(message);
  esk.fill(0);
  shared.fill(0);
  key.fill(0);
  const out = new Uint8Array(32 + boxed.length);
  out.set(epk, 0);
  out.set(boxed, 32);
  return out;
}

/** `keys` sealed to the gateway's `publicKey` (URL-safe base64), as `POST .../connections` takes them. */
export function sealKeys(publicKey: string, keys: VenueKeys): string {
  const json = JSON.stringify(keys);
  return toBase64Url(sealedBox(fromBase64Url(publicKey), new TextEncoder().encode(json)));
}
