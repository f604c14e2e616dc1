import { useFigmaAuth } from "./useFigmaAuth.js";

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
          <p>Figma token status: {view.provider.status}</p>
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
