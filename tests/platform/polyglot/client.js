// A Node.js client built only from the .proto files in proto/ (no Python involved): proves the public
// schema serves other languages. Usage: node client.js HOST:PORT PROTO_ROOT. Prints one JSON object.
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const path = require("path");

const [addr, protoRoot] = process.argv.slice(2);
const load = (file) =>
  grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(protoRoot, file), {
      includeDirs: [protoRoot],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    })
  );

const iam = load("strata/iam/v1/iam_service.proto").strata.iam.v1;
const ingest = load("strata/ingest/v1/ingest_service.proto").strata.ingest.v1;
const creds = grpc.credentials.createInsecure();
const iamClient = new iam.IamService(addr, creds);
const ingestClient = new ingest.IngestService(addr, creds);

const call = (client, method, request) =>
  new Promise((resolve) =>
    client[method](request, { deadline: Date.now() + 10000 }, (err, response) =>
      resolve(err ? { error: { code: err.code, details: err.details } } : { response })
    )
  );

(async () => {
  const principal = await call(iamClient, "GetPrincipal", {});
  const badRun = await call(ingestClient, "GetRun", { name: "not-a-run-name" });
  const created = await call(ingestClient, "CreateRun", {
    parent: "entities/polyglot/projects/node",
    job_type: "eval",
    tags: ["node"],
    config_json: JSON.stringify({ lr: 0.001, layers: [64, 64] }),
  });
  const fetched = created.response
    ? await call(ingestClient, "GetRun", { name: created.response.run.name })
    : created;
  console.log(JSON.stringify({ principal, badRun, created, fetched }));
  iamClient.close();
  ingestClient.close();
})();
