export * from './keypair.ts';
export * from './nacl.ts';
export * from './keyfile.ts';
export * from './password.ts';
export * from './wallet.ts';
