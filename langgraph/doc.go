// Package langgraph turns LangGraph's event stream (astream_events v2 in
// Python, streamEvents v2 in LangGraph.js) into wtb events. It is the
// reference's LangGraphEventBridge with its bugs fixed, for streams that
// reach wtb from outside the process: `POST /v1/langgraph/events` and
// `wtb import --langgraph` read records as NDJSON, ParseRecord decodes
// each one, and a Translator turns it into events, which the caller
// records like any other. The package knows nothing of HTTP or stores.
//
// # Records
//
// A record has LangGraph's keys event, name, run_id, data, metadata, tags
// and parent_ids (Python only). LangGraph's records carry no time: a
// Translator uses the time each record is read, so a producer that streams
// its records as they happen (one request with a streamed body) gets real
// times and durations. A producer that sends records later may add the key
// "timestamp" (RFC 3339, or Unix seconds), which wtb prefers.
//
// The execution a record belongs to is Options.ExecutionID, or else the
// thread_id of its metadata (LangGraph copies the configurable thread_id
// into every run's metadata).
//
// # Mapping
//
// Which run a record is about decides what it becomes:
//
//	record                                  run                         events
//	on_chain_start                          the graph (the root run:    ExecutionStarted (workflow_name and, unless
//	                                        no langgraph_node, no       Options.WorkflowID, workflow_id = the graph's
//	                                        parent_ids)                 name); ExecutionResumed after an interrupt
//	on_chain_end                            the graph                   ExecutionCompleted (duration, nodes_executed,
//	                                                                    final_state = output); ExecutionPaused
//	                                                                    (reason "interrupt") when the stream showed
//	                                                                    an __interrupt__
//	on_chain_error                          the graph                   ExecutionFailed (failed_at_node, error type
//	                                                                    and message, duration)
//	on_chain_start                          a node (name ==             NodeStarted (node_type "langgraph"; context:
//	                                        metadata.langgraph_node)    run_id, step, task, attempt)
//	on_chain_end                            a node                      NodeCompleted (duration, result = output,
//	                                                                    tool_invocations)
//	on_chain_error                          a node                      NodeFailed (error_type, error_message)
//	on_chain_start|end|error                any other chain             LangGraphAudit node_started|node_completed|node_failed
//	on_tool_start|end|error                 a tool                      LangGraphAudit tool_started|tool_completed|tool_failed
//	on_chat_model_start|end, on_llm_*       a model                     LangGraphAudit llm_started|llm_completed (metrics:
//	                                                                    input_tokens, output_tokens, total_tokens,
//	                                                                    stream_chunks)
//	on_chat_model_stream, on_llm_stream     a model                     the first: LangGraphAudit llm_streamed (metric
//	                                                                    time_to_first_chunk_ms); the rest folded
//	on_retriever_start|end                  a retriever                 LangGraphAudit retriever_started|retriever_completed
//	on_chain_stream                         any                         folded (the output is in the end record)
//	on_custom_event and anything else       any                         LangGraphAudit custom_event (errors of models
//	                                                                    and retrievers carry their error)
//
// LangGraphAudit events carry thread_id = the execution, run_id,
// parent_run_id, node_id = the record's name, step, metadata and tags;
// inputs when Options.IncludeInputs, outputs unless Options.OmitOutputs;
// duration_ms on the kinds that end a run.
//
// LangGraph's stream has no error record for a failed node attempt (it has
// none at all in LangGraph.js, and Python's has none for retried
// attempts): a failure shows as a start without an end. A Translator
// therefore infers failures: when a node's task (metadata
// langgraph_checkpoint_ns, which a task's attempts share and parallel tasks
// do not) starts again while its previous attempt is open, that attempt
// failed and was retried (NodeFailed, error_type "Unknown", recoverable);
// when the graph fails, its open attempts failed with the graph's error;
// when the graph completes with an attempt still open, that attempt failed
// too. A graph that fails in LangGraph.js ends the stream without any
// record; the producer says so with an on_chain_error record for the
// graph (the README shows how).
//
// Records are filtered as the reference's StreamModeConfig filters them:
// names starting with "__" (such as __start__) unless
// Options.KeepInternal, and Options.Nodes / Options.ExcludeNodes.
// Translate reports each record's Outcome: Recorded, Filtered or Folded;
// nothing is left out without being counted.
//
// # Idempotence
//
// An event's id derives from the execution, the run_id and the kind of
// event (a UUIDv5), so translating a record again, in the same stream or a
// copy of it posted again, yields the same ids, and the store records the
// event once. A stream may arrive in several parts: the Translator keeps
// each execution's state (open runs, attempts, nodes completed) from its
// first record until its graph ends, within Limits.
//
// # Differences from the reference bridge
//
// Each fixes one of its bugs (wtb-events.md §e.6, §j.8):
//
//   - nodes_executed counts the nodes that completed (distinct node runs),
//     not the start, end and error records that were published;
//   - workflow_name is the graph's name (the reference never set it, so its
//     audit message named an empty workflow);
//   - the LangGraph audit events are recorded, not only logged at debug
//     level;
//   - a stream that stops without the graph's end record leaves the
//     execution running; the reference published ExecutionCompleted when
//     its loop ended, whether or not the graph had;
//   - event ids derive from run_id and kind instead of being random, so a
//     stream sent twice is recorded once;
//   - NodeCompleted's duration is that of its own run, and node failures
//     have durations too (the reference's tracker gave failures none);
//   - parent_run_id is the immediate parent (the last of parent_ids); the
//     reference took the first, which is the root;
//   - the node filters apply to the graph node a record belongs to, not to
//     its name, so that a filter on nodes keeps the graph's own records and
//     the tools and models inside the kept nodes (the reference's filter
//     compared every record's name, so naming nodes dropped the graph's
//     execution events);
//   - a failed attempt that LangGraph retried is recorded (the reference
//     saw nothing, because the stream has no error record for it);
//   - NodeCompleted.tool_invocations counts the node's tool calls (the
//     reference left it 0);
//   - each node record is recorded once, as its domain event, where the
//     reference also built a LangGraphAudit event for it; records without a
//     domain event are recorded as LangGraphAudit events;
//   - a chat model's token stream is recorded as its first chunk plus a
//     count, not one event per token.
//
// Interrupts are handled where the reference had nothing: the stream's
// __interrupt__ marks the run, whose end becomes ExecutionPaused at the
// interrupted node, and the next run on the same execution becomes
// ExecutionResumed.
//
// Checkpoints are not in LangGraph's event stream; they are not recorded
// from it.
package langgraph
