/** A real Gateway (store in a temp dir, no IKE) for shell and daemon unit tests. */
import { ConfigStore } from "../../../src/config/store.ts";
import { Gateway } from "../../../src/daemon/gateway.ts";
import { configOnlyServices } from "../../../src/daemon/services.ts";
import { Logger } from "../../../src/log.ts";

/** A started gateway with its temp state dir; call `dispose` in a finally. */
export interface Fixture {
  readonly gateway: Gateway;
  readonly stateDir: string;
  readonly log: Logger;
  dispose(): Promise<void>;
}

/** Starts a gateway on a fresh state dir, optionally importing `configText`. */
export async function startGateway(
  configText?: string,
  opts: { minuteMs?: number; stateDir?: string } = {},
): Promise<Fixture> {
  const stateDir = opts.stateDir ?? Deno.makeTempDirSync({ prefix: "bg-gw-" });
  const log = Logger.create({ level: "debug" });
  const store = ConfigStore.open(stateDir, log);
  const gateway = new Gateway({
    store,
    stateDir,
    baseDir: stateDir,
    log,
    services: configOnlyServices("no IKE responder in this build"),
    version: ["branchgate test"],
    selftest: () => ["selftest: ok"],
    ...(opts.minuteMs !== undefined ? { minuteMs: opts.minuteMs } : {}),
  });
  await gateway.start(
    configText === undefined ? undefined : { path: "test.toml", text: configText },
  );
  return {
    gateway,
    stateDir,
    log,
    async dispose() {
      await gateway.close();
      if (opts.stateDir === undefined) Deno.removeSync(stateDir, { recursive: true });
    },
  };
}

/** The minimal valid config used across tests. */
export const BASE = `[gateway]
listen = ["192.0.2.1"]

[[peer]]
name = "hq"
remote = "198.51.100.1"
psk = "correct horse battery"
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.0.0.0/16"]
`;
