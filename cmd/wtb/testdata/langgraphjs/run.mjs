// run.mjs runs the graph of graph.mjs once and sends the run to wtb.
//
//   node run.mjs stream BASE_URL THREAD_ID
//       streams the graph's streamEvents v2 records, as they happen, as one
//       NDJSON request body to BASE_URL/v1/langgraph/events
//   node run.mjs otlp BASE_URL THREAD_ID
//       runs the graph under the OpenInference LangChain instrumentation
//       with the OpenTelemetry OTLP/HTTP exporter pointed at BASE_URL
//       (the exporter appends /v1/traces)
//
// It prints one JSON line: the mode, the thread id and wtb's answer.
import http from "node:http";

const [mode, base, threadId] = process.argv.slice(2);
if (!["stream", "otlp"].includes(mode) || !base || !threadId) {
  console.error("usage: node run.mjs stream|otlp BASE_URL THREAD_ID");
  process.exit(2);
}
const config = { configurable: { thread_id: threadId } };

if (mode === "stream") {
  const { build, input } = await import("./graph.mjs");
  const url = new URL("/v1/langgraph/events", base);
  // One request whose body is written record by record while the graph
  // runs (chunked transfer encoding), so wtb sees each record when it
  // happens.
  const answer = new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "Content-Type": "application/x-ndjson" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on("error", reject);
    req.flushHeaders(); // open the stream before the graph starts
    globalThis.wtbRequest = req;
  });
  const req = globalThis.wtbRequest;
  // LangGraph's records carry no time; "timestamp" (Unix seconds) is wtb's
  // optional key for when the producer saw each record, so that durations
  // do not depend on how the network batches the stream.
  const now = () => (performance.timeOrigin + performance.now()) / 1000;
  const graph = build();
  let root = null;
  try {
    for await (const record of graph.streamEvents(input, { ...config, version: "v2" })) {
      root ??= record;
      req.write(JSON.stringify({ ...record, timestamp: now() }) + "\n");
    }
  } catch (err) {
    // streamEvents has no error record: say that the graph failed.
    req.write(JSON.stringify({
      event: "on_chain_error", name: root?.name ?? "LangGraph", run_id: root?.run_id ?? "", metadata: root?.metadata ?? {}, tags: [], timestamp: now(),
      data: { error: String(err.message ?? err), error_type: err.name ?? "Error" },
    }) + "\n");
  }
  req.end();
  console.log(JSON.stringify({ mode, thread_id: threadId, answer: await answer }));
} else {
  const { NodeTracerProvider } = await import("@opentelemetry/sdk-trace-node");
  const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const { LangChainInstrumentation } = await import("@arizeai/openinference-instrumentation-langchain");
  const CallbackManagerModule = await import("@langchain/core/callbacks/manager");

  const exporter = new OTLPTraceExporter({ url: new URL("/v1/traces", base).href });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "wtb-langgraphjs-producer" }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const instrumentation = new LangChainInstrumentation({ tracerProvider: provider });
  instrumentation.manuallyInstrument(CallbackManagerModule);

  const { build, input } = await import("./graph.mjs");
  const graph = build();
  let failure = null;
  try {
    await graph.invoke(input, config);
  } catch (err) {
    failure = String(err.message ?? err);
  }
  await provider.forceFlush();
  await provider.shutdown();
  console.log(JSON.stringify({ mode, thread_id: threadId, failure }));
}
