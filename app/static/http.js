// Sifa pages: JSON calls to the API and its errors, shared by the kiosk and the judge console.
// Errors arrive as {"error": {code, message: "中文 / English", fields?, missing?}}.

export function errorText(data, status, lang) {
  const message = data && data.error && data.error.message;
  if (!message) return `HTTP ${status}`;
  const [zh, en] = message.split(" / ");
  const english = lang === "en";
  const text = english && en ? en : zh;
  const fields = (data.error.fields || []).map(
    (f) => `${f.field}: ${f.problem.split(" / ")[english ? 1 : 0] || f.problem}`,
  );
  const missing = (data.error.missing || []).join("；");
  const parts = [text, ...fields];
  if (missing && !english && !text.includes(missing)) parts[0] = `${text}：${missing}`;
  return parts.join("；");
}

// method, path, optional JSON body; extra headers (CSRF token, a party's token).
// Resolves to the JSON answer; rejects with an Error carrying the HTTP status.
export async function callApi(method, path, body, headers, lang) {
  const all = { Accept: "application/json", ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers: all,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new Error(errorText(data, response.status, lang));
    error.status = response.status;
    throw error;
  }
  return data;
}
