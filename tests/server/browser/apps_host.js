// The host side of MCP Apps, built only from the official libraries: the MCP client (streamable HTTP, with
// the bearer token) talks to akool-mcp, and the ext-apps AppBridge talks to the player in its iframe over
// PostMessageTransport. Bundled by esbuild for the browser tests (conftest.py); apps_host.html drives it.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

export async function connect(url, token) {
  const client = new Client({ name: "akool-test-host", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

// With a client the bridge forwards the view's tools/call and resources/read to the server itself; without
// one (`client` null) the test answers them through `scripted`.
export async function attach(client, iframe, record, scripted, theme) {
  const bridge = new AppBridge(
    client,
    { name: "akool-test-host", version: "1.0.0" },
    { openLinks: {}, serverTools: {}, serverResources: {} },
    { hostContext: { theme, displayMode: "inline", containerDimensions: { width: 460, maxHeight: 1400 } } },
  );
  bridge.onmessage = async (params) => {
    record.messages.push(params);
    return {};
  };
  bridge.onopenlink = async (params) => {
    record.opened.push(params.url);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.min(height, 1400)}px`;
  };
  bridge.oninitialized = () => {
    record.initialized = true;
  };
  if (!client) {
    bridge.oncalltool = (params) => scripted("tools/call", params);
    bridge.onreadresource = (params) => scripted("resources/read", params);
  }
  const transport = new PostMessageTransport(iframe.contentWindow, iframe.contentWindow);
  // What the host sends the view, by method: to see which notifications (progress?) a view gets.
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    record.toView.push(message.method || "response");
    return send(message, options);
  };
  await bridge.connect(transport);
  return bridge;
}
