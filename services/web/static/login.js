// The login page's only script: say why the last attempt failed (no inline scripts: CSP).
"use strict";
(function () {
  const q = new URLSearchParams(location.search);
  const box = document.getElementById("login-error");
  let text = null;
  if (q.get("wait")) text = `Too many failed attempts: try again in ${q.get("wait")} s.`;
  else if (q.get("error") === "origin") text = "That form did not come from this page.";
  else if (q.get("error")) text = "Wrong name or password.";
  if (text) { box.textContent = text; box.hidden = false; }
})();
