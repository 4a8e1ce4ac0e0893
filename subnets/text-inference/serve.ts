/**
 * `npx tsx subnets/text-inference/serve.ts`: a local subnet (LocalChain, one validator, three honest onnx
 * miners) with the validator's OpenAI-compatible gateway on 127.0.0.1, until Ctrl-C. For trying the gateway
 * with curl or any OpenAI client. Env: GATEWAY_PORT (default 8000), GATEWAY_API_KEY (default sk-local),
 * GATEWAY_SPOT_CHECK (share of answers verified, default 0.25), MODEL_DIR (a standard exported model directory —
 * model.onnx or onnx/model.onnx, tokenizer.json, config.json — instead of the bundled model; MODEL_ID to rename it).
 */
import { z } from 'zod';
import { Dendrite } from '../../framework/dendrite/dendrite.ts';
import { loadExportedModel, type ExportedModel } from './src/exported.ts';
import { startGateway } from './src/gateway.ts';
import { runHarness } from './src/harness.ts';

const env = z
  .object({
    GATEWAY_PORT: z.coerce.number().int().min(1).max(65535).default(8000),
    GATEWAY_API_KEY: z.string().min(8).default('sk-local'),
    GATEWAY_SPOT_CHECK: z.coerce.number().min(0).max(1).default(0.25),
    MODEL_DIR: z.string().min(1).optional(),
    MODEL_ID: z.string().min(1).max(200).optional(),
  })
  .safeParse(process.env);
if (!env.success) {
  const i = env.error.issues[0]!;
  process.stderr.write(`error: invalid $${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const cfg = env.data;
const out = (s: string) => process.stdout.write(`${s}\n`);
let model: ExportedModel | undefined;
try {
  model = cfg.MODEL_DIR === undefined ? undefined : loadExportedModel(cfg.MODEL_DIR, cfg.MODEL_ID);
} catch (e) {
  process.stderr.write(`error: MODEL_DIR: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
out(`starting a local text-inference subnet (3 honest miners${model ? `, ${model.modelPath}` : ''})…`);
await runHarness({
  model,
  lineup: ['honest', 'honest', 'honest'],
  epochs: 1,
  minRounds: 1,
  maxSeconds: 5,
  during: async (net) => {
    while (Object.keys(net.validator.state.scores()).length === 0) await new Promise((r) => setTimeout(r, 200));
    const dendrite = new Dendrite(net.validatorKey);
    const gw = await startGateway({
      inference: net.inference, chain: net.chain, netuid: net.netuid, dendrite, scores: () => net.validator.state.scores(),
      apiKeys: [cfg.GATEWAY_API_KEY], port: cfg.GATEWAY_PORT, spotCheckShare: cfg.GATEWAY_SPOT_CHECK,
    }).catch((e: unknown) => {
      process.stderr.write(`error: cannot start the gateway on 127.0.0.1:${cfg.GATEWAY_PORT}: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
    out(`gateway: http://127.0.0.1:${gw.port}/v1  (API key ${cfg.GATEWAY_API_KEY}, model ${net.inference.modelId}); Ctrl-C to stop`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    out(`stopping (requests ${gw.stats.requests}, spot-checked ${gw.stats.spotChecked}, failed ${gw.stats.spotFailed})`);
    await gw.close();
    await dendrite.close();
  },
}).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
process.exit(0);
