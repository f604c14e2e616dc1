import { useEffect, useState } from "react";
import { auth, useFigmaAuth } from "./useFigmaAuth.js";

function OpenFile() {
  const [key, setKey] = useState("");
  const [file, setFile] = useState(null);
  const [problem, setProblem] = useState(null);
  async function open(event) {
    event.preventDefault();
    setProblem(null);
    const response = await auth.figma(`v1/files/${encodeURIComponent(key)}?depth=1`);
    const body = await response.json();
    if (response.ok) setFile({ name: body.name, pages: body.document.children.map((p) => p.name) });
    else setProblem(body.message || body.err || `Figma answered ${response.status}`);
  }
  return (
    <form onSubmit={open}>
      <label>
        File key <input id="file-key" value={key} onChange={(e) => setKey(e.target.value)} required />
      </label>{" "}
      <button id="open-file">Open file</button>
      {file && <pre id="file">{JSON.stringify(file, null, 2)}</pre>}
      {file && <LiveFile fileKey={key} />}
      {problem && <p id="file-error" role="alert">{problem}</p>}
    </form>
  );
}

// Live: the file's edits pushed over figma-auth's realtime API (auth.watch), no polling.
function LiveFile({ fileKey }) {
  const [status, setStatus] = useState(null);
  const [events, setEvents] = useState([]);
  useEffect(() => {
    setEvents([]);
    return auth.watch(fileKey, (event) => setEvents((seen) => [event, ...seen].slice(0, 20)), { onStatus: setStatus });
  }, [fileKey]);
  return (
    <section id="live" data-status={status?.status ?? "connecting"}>
      <p>
        Live: {status ? status.status : "connecting…"} {status?.reason}
      </p>
      <ul id="live-events">
        {events.map((e) => (
          <li key={e.id}>
            {e.detail_type} · {e.detail.file_name ?? e.detail.file_key}
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function App() {
  const { loading, view, error, signIn, signOut } = useFigmaAuth();

  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: 560, margin: "40px auto" }}>
      <h1>figma-auth · React</h1>
      {error && (
        <p id="error" data-code={error.code} role="alert" style={{ background: "#fee", color: "#a00", padding: 10 }}>
          Error: {error.code} — {error.message}
        </p>
      )}
      {loading ? (
        <p id="loading">Loading…</p>
      ) : view ? (
        <section id="signed-in">
          <p>
            {view.user.img_url && <img src={view.user.img_url} alt="" width={32} height={32} />}{" "}
            <b id="handle">{view.user.handle ?? view.user.id}</b> <span id="email">{view.user.email}</span>
          </p>
          <p>
            Figma token status: {view.provider.status} · scopes <span id="scopes">{view.provider.scopes.join(", ")}</span>
          </p>
          <OpenFile />
          <button id="signout" onClick={signOut}>
            Sign out
          </button>
        </section>
      ) : (
        <section id="signed-out">
          <button id="signin" onClick={signIn}>
            Sign in with Figma
          </button>
        </section>
      )}
    </main>
  );
}
