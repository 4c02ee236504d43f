// A TypeScript client generated from proto/ by protoc-gen-es (proto/buf.gen.yaml) calls the server with
// Connect's gRPC transport over HTTP/2: a unary call, an error whose ErrorInfo it decodes from
// grpc-status-details-bin, and a WatchAlias server stream that sees a move made elsewhere.
// Usage: node client.js HOST:PORT ARTIFACT. Prints one JSON object per line; after the first WatchAlias
// message the caller moves the alias "production", and the second message ends the run.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "./gen/es/google/rpc/error_details_pb";
import { IamService } from "./gen/es/strata/iam/v1/iam_service_pb";
import { IngestService } from "./gen/es/strata/ingest/v1/ingest_service_pb";
import { RegistryService } from "./gen/es/strata/registry/v1/registry_service_pb";

const emit = (line: object): void => {
  process.stdout.write(JSON.stringify(line) + "\n");
};

async function main(): Promise<void> {
  const [addr, artifact] = process.argv.slice(2);
  if (addr === undefined || artifact === undefined) {
    throw new Error("usage: node client.js HOST:PORT ARTIFACT");
  }
  const transport = createGrpcTransport({ baseUrl: `http://${addr}` });
  const iam = createClient(IamService, transport);
  const ingest = createClient(IngestService, transport);
  const registry = createClient(RegistryService, transport);

  const principal = await iam.getPrincipal({}, { timeoutMs: 10_000 });
  const created = await ingest.createRun(
    { parent: "entities/polyglot/projects/ts", jobType: "eval", configJson: JSON.stringify({ lr: 0.001 }) },
    { timeoutMs: 10_000 },
  );
  emit({ unary: { serverAdmin: principal.serverAdmin, run: created.run?.name ?? "" } });

  try {
    await ingest.getRun({ name: "not-a-run-name" }, { timeoutMs: 10_000 });
    emit({ error: null });
  } catch (e) {
    const err = ConnectError.from(e);
    const [info] = err.findDetails(ErrorInfoSchema);
    emit({ error: { code: Code[err.code], reason: info?.reason ?? "", domain: info?.domain ?? "" } });
  }

  let seen = 0;
  for await (const message of registry.watchAlias({ artifact, alias: "production" }, { timeoutMs: 60_000 })) {
    seen += 1;
    emit({ watch: { version: message.version?.name ?? "", revision: String(message.event?.revision ?? 0) } });
    if (seen === 2) {
      break; // leaving the loop cancels the stream
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
