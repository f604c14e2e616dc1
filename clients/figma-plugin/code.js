// The plugin's main thread: it owns what the UI iframe cannot have. The UI (dist/ui.html) has a
// `null` origin, no localStorage and cannot open windows; it asks this thread by message.
const TOKEN = "figma-auth:session-token";

figma.showUI(__html__, { width: 340, height: 460, themeColors: true });

figma.ui.onmessage = async (msg) => {
  switch (msg.type) {
    case "load": // the saved session token (figma.clientStorage: per user, per plugin) and the open file
      figma.ui.postMessage({
        type: "loaded",
        token: (await figma.clientStorage.getAsync(TOKEN)) || null,
        fileKey: figma.fileKey || null, // needs "enablePrivatePluginApi" (private and development plugins)
      });
      break;
    case "save":
      await figma.clientStorage.setAsync(TOKEN, msg.token);
      break;
    case "forget":
      await figma.clientStorage.deleteAsync(TOKEN);
      break;
    case "open": // the person's browser, at our page that shows the code
      figma.openExternal(msg.url);
      break;
    case "close":
      figma.closePlugin();
      break;
  }
};
