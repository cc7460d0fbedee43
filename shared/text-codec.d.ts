// shared/ compiles without DOM or Node types, so it cannot touch either runtime's specifics.
// TextEncoder/TextDecoder exist in both (WHATWG Encoding), so they are declared here, minimally.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
