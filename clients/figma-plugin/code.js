// The plugin's main thread: it owns what the UI iframe cannot have. The UI (dist/ui.html) has a
// `null` origin, no localStorage and cannot open windows; it asks this thread by message.
const TOKEN = "figma-auth:session-token";

figma.showUI(__html__, { width: 340, height: 460, themeColors: true });

// Only the UI's documented messages, each checked: anything else is dropped.
const isToken = (value) => typeof value === "string" && /^[A-Za-z0-9_.-]{1,512}$/.test(value);
const isVerifyPage = (value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.pathname === "/auth/device/verify";
  } catch {
    return false;
  }
};

figma.ui.onmessage = async (msg) => {
  if (!msg || typeof msg !== "object") return;
  switch (msg.type) {
    case "load": // the saved session token (figma.clientStorage: per user, per plugin) and the open file
      figma.ui.postMessage({
        type: "loaded",
        token: (await figma.clientStorage.getAsync(TOKEN)) || null,
        fileKey: figma.fileKey || null, // needs "enablePrivatePluginApi" (private and development plugins)
      });
      break;
    case "save":
      if (isToken(msg.token)) await figma.clientStorage.setAsync(TOKEN, msg.token);
      break;
    case "forget":
      await figma.clientStorage.deleteAsync(TOKEN);
      break;
    case "open": // the person's browser, at our page that shows the code (and nowhere else)
      if (isVerifyPage(msg.url)) figma.openExternal(msg.url);
      break;
    case "close":
      figma.closePlugin();
      break;
  }
};
