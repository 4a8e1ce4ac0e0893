/**
 * btcli spells options with dots and underscores (`--wallet.name`, `--subtensor.chain_endpoint`);
 * people paste those. They are rewritten to ours before commander sees them, so both work everywhere.
 */
const ALIASES: Record<string, string> = {
  '--wallet.name': '--name',
  '--wallet-name': '--name',
  '--wallet_name': '--name',
  '--wallet.hotkey': '--hotkey',
  '--wallet-hotkey': '--hotkey',
  '--wallet_hotkey': '--hotkey',
  '--wallet.path': '--wallet-path',
  '--wallet_path': '--wallet-path',
  '--subtensor.network': '--chain',
  '--subtensor.chain_endpoint': '--chain',
  '--subtensor-network': '--chain',
  '--subtensor-chain-endpoint': '--chain',
  '--network': '--chain',
  '--axon.port': '--port',
  '--axon.ip': '--host',
  '--axon.external_ip': '--external-ip',
  '--axon.external_port': '--external-port',
  '--logging.level': '--log-level',
};

/** btcli's "don't ask" flags: our commands never ask except for a password, so they are accepted and dropped. */
const NO_PROMPT = new Set(['-y', '--no-prompt', '--no_prompt', '--yes']);

export function normaliseBtcliFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (NO_PROMPT.has(arg)) continue;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const alias = ALIASES[name];
    out.push(alias ? (eq > 0 ? `${alias}${arg.slice(eq)}` : alias) : arg);
  }
  return out;
}

/** The same names inside config files: `wallet: {name: …}` → `name`, `subtensor: {network: …}` → `chain`. */
export const NESTED_CONFIG_KEYS: Record<string, Record<string, string>> = {
  wallet: { name: 'name', hotkey: 'hotkey', path: 'walletPath' },
  subtensor: { network: 'chain', chain_endpoint: 'chain', chainEndpoint: 'chain' },
  axon: { port: 'port', ip: 'host', external_ip: 'externalIp', externalIp: 'externalIp', external_port: 'externalPort', externalPort: 'externalPort' },
  logging: { level: 'logLevel', format: 'logFormat' },
};
