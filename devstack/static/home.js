// The local stack's home page: sign in, show GET /auth/session, sign out.
const here = window.location.origin + "/";
const params = new URLSearchParams(window.location.search);
const signin = document.getElementById("signin");
signin.href = "/auth/figma/authorize?" + new URLSearchParams({ success: here, failure: here + "?failed=1" });

if (params.get("error")) {
  const box = document.getElementById("error");
  box.textContent = "Sign-in failed: " + params.get("error");
  box.hidden = false;
}

async function show() {
  const res = await fetch("/auth/session", { credentials: "include" });
  document.getElementById("session").textContent = res.status + "\n" + JSON.stringify(await res.json(), null, 2);
  document.getElementById("signout").hidden = res.status !== 200;
}

document.getElementById("signout").addEventListener("click", async () => {
  await fetch("/auth/logout", { method: "POST", credentials: "include" });
  await show();
});

show();
