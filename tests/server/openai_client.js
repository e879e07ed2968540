// Calls keel serve's /v1/embeddings through the official OpenAI Node client.
// usage: node openai_client.js <peers node_modules> <base url> <model> <inputs.json>
// Prints {"float": [[...]], "base64": [[...]]}: the vectors as the client returns them.
const path = require("path");
const [peers, baseURL, model, inputsFile] = process.argv.slice(2);
const lib = require(path.join(peers, "openai"));
const OpenAI = lib.OpenAI || lib.default || lib;
const inputs = JSON.parse(require("fs").readFileSync(inputsFile, "utf8"));

(async () => {
  const client = new OpenAI({ apiKey: "test-key", baseURL, maxRetries: 0 });
  const asFloat = await client.embeddings.create({ model, input: inputs, encoding_format: "float" });
  // With encoding_format "base64" the client returns the base64 strings as sent;
  // without one it asks for base64 and decodes it to numbers itself.
  const asBase64 = await client.embeddings.create({ model, input: inputs, encoding_format: "base64" });
  const decoded = await client.embeddings.create({ model, input: inputs });
  const order = (r) => r.data.slice().sort((a, b) => a.index - b.index);
  process.stdout.write(JSON.stringify({
    float: order(asFloat).map((d) => d.embedding),
    base64: order(asBase64).map((d) => d.embedding),
    decoded: order(decoded).map((d) => Array.from(d.embedding)),
    usage: asFloat.usage,
    model: asFloat.model,
  }));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(1);
});
