// A small LangGraph.js graph with every behaviour wtb must record: a model
// call that asks for a tool, the tool call, a conditional branch, a node that
// fails once and is retried, and a checkpointer. The models are the fake
// chat models of @langchain/core's testing utilities: no network, no key.
import { AIMessage, AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel, FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { z } from "zod";

const getWeather = tool(async ({ city }) => `It is sunny in ${city}.`, {
  name: "get_weather",
  description: "Current weather of a city.",
  schema: z.object({ city: z.string() }),
});

// The first model turn asks for the tool; the second answers.
const askTool = new FakeStreamingChatModel({
  chunks: [
    new AIMessageChunk({
      content: "",
      tool_calls: [{ name: "get_weather", args: { city: "Paris" }, id: "call_weather_1", type: "tool_call" }],
    }),
  ],
});
const answer = new FakeListChatModel({ responses: ["It is sunny in Paris."] });

async function agent(state) {
  const last = state.messages[state.messages.length - 1];
  const model = last._getType() === "tool" ? answer : askTool;
  return { messages: [await model.invoke(state.messages)] };
}

// route is the conditional branch: to the tool while the model asks for one.
function route(state) {
  const last = state.messages[state.messages.length - 1];
  return last.tool_calls?.length ? "tools" : "report";
}

// report fails on its first attempt of every run and succeeds when retried.
let reportAttempts = 0;
async function report(state) {
  reportAttempts++;
  if (reportAttempts === 1) {
    throw new Error("report service unavailable");
  }
  return { messages: [new AIMessage("Report filed.")] };
}

/** build returns the compiled graph, with a fresh checkpointer and attempt count. */
export function build() {
  reportAttempts = 0;
  return new StateGraph(MessagesAnnotation)
    .addNode("agent", agent)
    .addNode("tools", new ToolNode([getWeather]))
    .addNode("report", report, { retryPolicy: { maxAttempts: 2, initialInterval: 20, jitter: false } })
    .addEdge(START, "agent")
    .addConditionalEdges("agent", route, ["tools", "report"])
    .addEdge("tools", "agent")
    .addEdge("report", END)
    .compile({ checkpointer: new MemorySaver() });
}

/** input is the graph's input. */
export const input = { messages: [new HumanMessage("What is the weather in Paris?")] };
