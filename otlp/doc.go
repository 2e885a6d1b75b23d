// Package otlp turns OpenTelemetry spans into wtb events: the spans that
// agent frameworks and their instrumentations export (the GenAI semantic
// conventions, OpenInference, OpenLLMetry/Traceloop, LangGraph's own
// attributes) become the execution, node and LangGraph audit events of a
// workflow run. `POST /v1/traces` (OTLP/HTTP, protobuf or JSON) decodes a
// request with DecodeRequest (go.opentelemetry.io/collector/pdata) and
// translates it with a Translator; the package knows nothing of HTTP or
// stores.
//
// # Executions
//
// A span belongs to the execution named by, in order: its (or its
// resource's) wtb.execution_id attribute; its LangGraph thread id
// (OpenInference's metadata.thread_id or session.id, Traceloop's
// association property thread_id or session_id, langgraph.thread_id); its
// trace id in hex. LangChain copies the thread id into every run of a
// LangGraph invocation, so all its spans name the same thread; a producer
// that sets a thread id on some spans of a trace only should set it on all
// of them or on none. The conversation id (gen_ai.conversation.id) is kept
// in the events but does not name the execution: a conversation spans many
// runs.
//
// # Mapping
//
// Each span is classified by the first rule that matches, then recorded:
//
//	rule                                         role       events (timestamps: the span's start and end)
//	gen_ai.operation.name = invoke_workflow      workflow   ExecutionStarted at the start (workflow_id and
//	traceloop.span.kind = workflow, no parent               workflow_name: gen_ai.workflow.name,
//	CHAIN without langgraph_node whose parent               traceloop.workflow.name, gen_ai.langgraph.graph.name
//	  is absent, or named LangGraph, or with                or the span name); at the end ExecutionCompleted
//	  metadata ls_integration = langgraph                   (duration, nodes_executed, final_state = output)
//	                                                        or, when the span failed, ExecutionFailed
//	                                                        (error type and message, failed_at_node)
//	gen_ai.operation.name = invoke_agent         node       NodeStarted at the start (node_type "agent" or
//	CHAIN named after its langgraph_node                    "langgraph"; context: trace_id, span_id, step, task,
//	  (OpenInference metadata, langgraph.node,              agent_id, conversation_id); at the end
//	  gen_ai.langgraph.node.name)                           NodeCompleted (duration, result = output,
//	traceloop.span.kind = task|agent|workflow               tool_invocations = its tool spans) or NodeFailed
//	  with a parent, directly under the workflow            (error type and message, duration)
//	gen_ai.operation.name = execute_tool         tool       LangGraphAudit tool_completed, or tool_failed,
//	openinference.span.kind = TOOL                          node_id = gen_ai.tool.name (tool.name, the
//	traceloop.span.kind = tool                              entity name); tool_call_id in metadata
//	gen_ai.operation.name = chat,                model      LangGraphAudit llm_completed, node_id = the model;
//	  text_completion, generate_content,                    metrics input_tokens, output_tokens, total_tokens
//	  embeddings                                            from gen_ai.usage.*, gen_ai.token.* or
//	openinference.span.kind = LLM, EMBEDDING                llm.token_count.*; a failed call carries its error
//	llm.request.type present
//	gen_ai.operation.name = retrieval            retriever  LangGraphAudit retriever_completed
//	openinference.span.kind = RETRIEVER
//	any other CHAIN or AGENT (OpenInference),    chain      LangGraphAudit node_completed, or node_failed
//	  nested Traceloop tasks (dotted                        (the reference's kinds for chain runs)
//	  traceloop.entity.path)
//	anything else                                custom     LangGraphAudit custom_event, node_id = the span
//	                                                        name, with every attribute of the span, its kind
//	                                                        and its error: no span is dropped silently
//
// A tool, model, retriever, chain or custom span is one finished
// operation: it is recorded once, at its end, with its duration_ms (its
// start is its end less its duration). Its LangGraphAudit event has
// run_id = the span id, parent_run_id = the parent span id, step =
// langgraph_step (or langgraph.step, gen_ai.langgraph.step), and metadata
// with the trace id and the identifying attributes the span has
// (operation, model, tool_call_id, conversation_id, agent_id,
// langgraph_node, checkpoint_id, thread_id, the OpenInference or Traceloop
// span kind). Inputs (input.value, traceloop.entity.input,
// gen_ai.input.messages, gen_ai.tool.call.arguments) are copied when
// Options.IncludeInputs; outputs (output.value and the equivalents) unless
// Options.OmitOutputs, parsed as JSON when they are JSON.
//
// A span failed when its status is ERROR. Its error type is the
// exception.type of its last exception event, else error.type, else
// "Error"; its message the exception.message, else the status message, cut
// at the first blank line (OpenInference for LangChain.js appends the
// stack trace there).
//
// LangGraph's internal nodes (names starting with "__", such as
// __start__) are counted as filtered (Result.Filtered) and not recorded,
// as package langgraph filters them, unless Options.KeepInternal or the
// span failed. A span without a trace id, without a span id, without start
// or end time, or ending before it starts is rejected (Result.Rejected,
// with the reason): OTLP's partial success reports it to the exporter.
//
// # Idempotence and order
//
// Event ids derive from the trace id, the span id and the kind of event,
// with the event's milliseconds first so that ids grow with time (a UUID
// of version 8), so an exporter that sends a batch again records nothing
// twice. A span's events depend on the span alone, apart from three
// counts: a Translator remembers, per trace and within Limits, which node
// spans completed, which tool spans ran under which node and which node
// failed last, for nodes_executed, tool_invocations and failed_at_node.
// Exporters send a span when it ends, so children come before their
// parent and those counts are complete; a parent that arrives before its
// children (a retried batch, several exporting processes) is recorded all
// the same, in the same execution, with the counts it could see.
package otlp
