/**
 * The web UI end to end in real Chromium (Debian's, driven by playwright-core) against a real server started
 * here and the scripted agent. Screenshots of the main views land in test-output/screenshots/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { type UiServer, ensureBuilt, startUiServer } from "./server.ts";

const shots = fileURLToPath(new URL("../../../test-output/screenshots/", import.meta.url));
const chromiumPath = "/usr/bin/chromium";

let server: UiServer;
let llm: FakeAnthropic;
let browser: Browser;
let context: BrowserContext;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error("Chromium is missing: `apt-get install -y chromium` (bash .ci/run installs it)");
  mkdirSync(shots, { recursive: true });
  ensureBuilt();
  // The built-in agent is offered once there is an LLM upstream: the scripted one stands in (`/context` never calls it).
  llm = await startFakeAnthropic();
  // One crash fails a session here: a failed session keeps its sandbox, and the UI must still show its files.
  server = await startUiServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "sk-ant-test", AIRLOCK_MAX_AGENT_CRASHES: "1" });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: "light" });
}, 240_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") console.error(`server output:\n${server?.log().slice(-4000) || "(none)"}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
  expect(pageErrors).toEqual([]);
});

async function open(path = "/", ctx = context): Promise<Page> {
  const page = await ctx.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  await page.goto(server.url + path);
  return page;
}

async function send(page: Page, text: string) {
  const box = page.getByRole("textbox", { name: "Prompt" });
  await box.fill(text);
  await box.press("Enter");
}

const header = (page: Page) => page.locator(".session-header");
const idle = (page: Page) => header(page).locator(".badge", { hasText: "Idle" }).waitFor({ timeout: 30_000 });

/** Starts a session from the form (optionally with a first task) and waits for it to be idle. */
async function startSession(page: Page, task?: string): Promise<string> {
  await page.locator(".agent-option", { hasText: "Scripted demo agent" }).click();
  if (task) await page.getByLabel("Task").fill(task);
  await page.getByRole("button", { name: "Start session" }).click();
  await page.waitForURL(/\/sessions\/ses_/);
  await idle(page);
  return new URL(page.url()).pathname.split("/").at(-1)!;
}

/** The text of the last agent message, with whitespace collapsed. */
const lastMessage = async (page: Page) => (await page.locator(".agent-message").last().innerText()).replace(/\s+/g, " ").trim();

describe("the web UI", () => {
  it("starts a session from the form with a first task, streams text, and shows a tool card with its diff", async () => {
    const page = await open();
    await page.getByText("Scripted demo agent").waitFor();
    // an agent that cannot run here is shown, disabled, with the reason and the fix
    await expect(page.getByRole("radio", { name: /Custom ACP command/ }).isDisabled()).resolves.toBe(true);
    await page.getByText("AIRLOCK_ALLOW_CUSTOM_AGENT").waitFor();
    await page.screenshot({ path: `${shots}home.png` });

    const id = await startSession(page, "tool");
    await expect(header(page).locator("h1").innerText()).resolves.toBe("tool");
    const card = page.locator(".card.tool").first();
    await card.locator(".pill", { hasText: "Done" }).waitFor({ timeout: 20_000 });
    await expect(card.locator(".card-title").innerText()).resolves.toBe("Edit greeting.ts");
    await expect(card.locator(".diff tr.del .code").innerText()).resolves.toContain('export const greeting = "Hello";');
    await expect(card.locator(".diff tr.add .code").innerText()).resolves.toContain('export const greeting = "Hello, world";');
    expect(await lastMessage(page)).toContain('I changed the greeting in greeting.ts to "Hello, world".');
    await page.locator(".turn-footer", { hasText: "Done" }).waitFor();

    // a second turn with thinking, streamed text and a plan
    await send(page, "think");
    await page.locator(".thought").nth(1).waitFor({ timeout: 20_000 });
    await idle(page);
    expect(await page.locator(".thought").count()).toBe(2); // alternating thinking and answering: two blocks
    expect(await lastMessage(page)).toBe("And as you see, thinking and answering can take turns.");

    // the session is listed with its status and agent
    const row = page.locator(`.session-row[href="/sessions/${id}"]`);
    await row.locator(".row-status", { hasText: "Idle" }).waitFor({ timeout: 10_000 });
    await expect(row.innerText()).resolves.toContain("Scripted agent");
    await page.close();
  });

  it("asks for permission inline and with a toast, takes the answer, and shows the written file", async () => {
    const page = await open();
    await startSession(page);
    await send(page, "permission");
    const card = page.locator(".card.tool.status-waiting");
    await card.waitFor({ timeout: 20_000 });
    await header(page).locator(".badge", { hasText: "Needs you" }).waitFor();
    await page.locator(".toast", { hasText: "The agent asks for permission" }).waitFor();
    await expect(card.locator(".diff tr.add .code").innerText()).resolves.toContain("approved");
    await expect(card.getByRole("button").allInnerTexts()).resolves.toEqual(expect.arrayContaining(["Allow", "Always allow", "Reject"]));
    await page.screenshot({ path: `${shots}permission.png` });

    await card.getByRole("button", { name: "Allow", exact: true }).click();
    await page.locator(".resolution.granted", { hasText: "Allow" }).waitFor({ timeout: 10_000 });
    await page.locator(".toast").waitFor({ state: "detached" });
    await page.locator(".agent-message", { hasText: 'Permission granted (allow): I wrote "approved" to permitted.txt.' }).waitFor({ timeout: 20_000 });
    await idle(page);

    // the workspace panel lists the file, opens it, and shows the session's changes
    const panel = page.getByRole("complementary", { name: "Workspace" });
    if (!(await panel.isVisible())) await header(page).getByRole("button", { name: "Workspace" }).click();
    await panel.getByRole("button", { name: /permitted\.txt/ }).click();
    await panel.locator(".viewer-code", { hasText: "approved" }).waitFor();
    await panel.getByRole("tab", { name: /Changes/ }).click();
    await panel.locator(".changes-file", { hasText: "permitted.txt" }).locator("tr.add", { hasText: "approved" }).waitFor();
    await page.screenshot({ path: `${shots}session.png` });
    await page.emulateMedia({ colorScheme: "dark" });
    await panel.getByRole("tab", { name: "Files" }).click();
    await page.screenshot({ path: `${shots}session-dark.png` });
    await page.close();
  });

  it("shows the same conversation after a reload mid-turn, with nothing missing or doubled", async () => {
    const page = await open();
    const id = await startSession(page);
    await send(page, "slow 3");
    await page.getByText("chunk 5,").waitFor({ timeout: 20_000 });
    await page.reload();
    await header(page).locator(".connection", { hasText: "Live" }).waitFor();
    await idle(page);
    const text = await lastMessage(page);
    const numbers = [...text.matchAll(/chunk (\d+)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // the page shows exactly what the log holds
    const log = await server.api("GET", `/v1/sessions/${id}/events?limit=1000`);
    const logged = log.body.events
      .filter((e: any) => e.type === "update" && e.data.sessionUpdate === "agent_message_chunk")
      .map((e: any) => e.data.content.text)
      .join("");
    expect(logged.replace(/\s+/g, " ").trim()).toBe(text);
    await page.close();
  });

  it("lets a second tab answer a pending request; the first tab updates, and its late answer is refused", async () => {
    const first = await open();
    const id = await startSession(first);
    await send(first, "permission");
    await first.locator(".card.tool.status-waiting").waitFor({ timeout: 20_000 });

    // The first tab is reloaded with a stream that brings the log so far and then ends, and its reconnection is
    // held: it shows the request but cannot hear the other tab's answer, so its own answer comes late and the
    // server refuses it (409). Then its stream resumes.
    let calls = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await first.route(/\/v1\/sessions\/[^/]+\/events$/, async (route) => {
      if (calls++ > 0) {
        await held;
        return route.continue();
      }
      const log = await server.api("GET", `/v1/sessions/${id}/events?limit=1000`);
      const body = log.body.events.map((e: { seq: number; type: string }) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
      await route.fulfill({ status: 200, headers: { "content-type": "text/event-stream" }, body });
    });
    await first.reload();
    const pending = first.locator(".card.tool.status-waiting");
    await pending.waitFor({ timeout: 20_000 });
    await header(first).locator(".connection", { hasText: "Reconnecting" }).waitFor({ timeout: 10_000 });

    const second = await open(`/sessions/${id}`);
    const request = second.locator(".card.tool.status-waiting");
    await request.waitFor({ timeout: 20_000 });
    await request.getByRole("button", { name: "Reject" }).click();
    await second.locator(".resolution.denied", { hasText: "Reject" }).waitFor({ timeout: 10_000 });

    await pending.getByRole("button", { name: "Allow", exact: true }).click();
    await first.locator(".inline-error", { hasText: "Already answered" }).waitFor({ timeout: 10_000 });
    release();
    await first.locator(".resolution.denied", { hasText: "Reject" }).waitFor({ timeout: 20_000 });
    await first.locator(".agent-message", { hasText: "Permission denied: I left permitted.txt alone." }).waitFor({ timeout: 20_000 });
    await first.close();
    await second.close();
  });

  it("answers a question in its own words, labels no output as code, and after a crash says so once and still shows the files", async () => {
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted", workspace: { files: { "notes.md": "kept after the crash\n" } } });
    const id: string = created.body.id;
    const page = await open(`/sessions/${id}`);
    await idle(page);

    // A question: the answer shows as the form's fields, and who answered in words.
    await send(page, "ask");
    const form = page.locator(".question-form");
    await form.waitFor({ timeout: 20_000 });
    await form.getByLabel(/What should I call you/).fill("Ada");
    await form.getByLabel(/Favourite colour/).selectOption("blue");
    await form.getByRole("button", { name: "Answer" }).click();
    const resolution = page.locator(".resolution.granted");
    await resolution.locator(".resolution-by", { hasText: "by you" }).waitFor({ timeout: 10_000 });
    await expect(resolution.locator(".answer-field").allInnerTexts()).resolves.toEqual([expect.stringMatching(/What should I call you\?\s+Ada/), expect.stringMatching(/Favourite colour\s+blue/)]);
    expect(await resolution.innerText()).not.toMatch(/[{}"]|loopback/);
    await page.locator(".agent-message", { hasText: "Nice to meet you, Ada! Blue is a fine colour." }).waitFor({ timeout: 20_000 });
    await idle(page);
    // Another tab did not answer it: it is told where the answer came from.
    const other = await open(`/sessions/${id}`);
    await other.locator(".resolution-by", { hasText: "from the server's own machine" }).waitFor({ timeout: 20_000 });
    await other.close();

    // Command output in a code block without a language gets no language label (it used to be called SQL).
    await send(page, "run ls -la");
    const output = page.locator(".agent-message .code-block", { hasText: "drwx" });
    await output.waitFor({ timeout: 20_000 });
    await idle(page);
    expect(await output.locator(".code-lang").count()).toBe(0);
    expect(await page.locator(".code-lang", { hasText: /^sql$/ }).count()).toBe(0);

    // The agent dies mid-turn: the failure is said once, and the kept sandbox's files still show.
    await send(page, "crash");
    await header(page).locator(".badge", { hasText: "Failed" }).waitFor({ timeout: 20_000 });
    const failures = page.locator(".banner.bad, .notice.bad", { hasText: "exited unexpectedly" });
    await failures.first().waitFor();
    expect(await failures.count()).toBe(1);
    expect((await server.api("GET", `/v1/sessions/${id}`)).body).toMatchObject({ final: true, hasWorkspace: true });
    const panel = page.getByRole("complementary", { name: "Workspace" });
    if (!(await panel.isVisible())) await header(page).getByRole("button", { name: "Workspace" }).click();
    await panel.getByRole("button", { name: /notes\.md/ }).click();
    await panel.locator(".viewer-code", { hasText: "kept after the crash" }).waitFor({ timeout: 10_000 });
    expect(await panel.innerText()).not.toMatch(/removed|no sandbox/);
    await page.screenshot({ path: `${shots}failed.png` });
    await page.close();
  });

  it("shows the setup commands' output under their steps and a Services tab with each service's status and log", async () => {
    const created = await server.api("POST", "/v1/sessions", {
      agent: "scripted",
      setup: {
        commands: ["echo installing the tools", "echo tools installed >&2"],
        services: [{ name: "clock", command: "echo clock started; sleep 600" }],
      },
    });
    const id: string = created.body.id;
    const page = await open(`/sessions/${id}`);
    await idle(page);
    const setup = page.locator(".setup-details");
    await setup.locator("summary", { hasText: "Sandbox ready · 2 setup commands" }).click();
    await setup.locator(".terminal", { hasText: "installing the tools" }).waitFor({ timeout: 10_000 });
    await setup.locator(".terminal", { hasText: "tools installed" }).waitFor();
    expect((await setup.locator(".check-text").allInnerTexts()).slice(-2)).toEqual(["Setup 1/2: echo installing the tools", "Setup 2/2: echo tools installed >&2"]);

    const panel = page.getByRole("complementary", { name: "Workspace" });
    if (!(await panel.isVisible())) await header(page).getByRole("button", { name: "Workspace" }).click();
    await panel.getByRole("tab", { name: "Services" }).click();
    const row = panel.getByRole("button", { name: "Open the log of clock" });
    await row.locator(".service-status", { hasText: "running" }).waitFor({ timeout: 10_000 });
    await row.click();
    await panel.getByLabel("Log of clock").filter({ hasText: "clock started" }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${shots}services.png` });
    await page.close();
    await server.api("DELETE", `/v1/sessions/${id}`);
  });

  it("shows files a command created and deleted (found by the relay, not written through fs/*), the deleted one struck through with its old lines", async () => {
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted", workspace: { files: { "old.md": "line one\n" } } });
    const page = await open(`/sessions/${created.body.id}`);
    await idle(page);
    await send(page, "run rm old.md && echo hi > new.txt");
    const deleted = page.locator(".file-change.deleted", { hasText: "old.md" });
    await deleted.waitFor({ timeout: 20_000 });
    expect(await deleted.locator(".file-change-verb").innerText()).toBe("Deleted");
    await deleted.getByRole("button").click();
    await deleted.locator("tr.del", { hasText: "line one" }).waitFor();
    const made = page.locator(".file-change.created", { hasText: "new.txt" });
    expect(await made.locator(".file-change-verb").innerText()).toBe("Created");
    await idle(page);
    const panel = page.getByRole("complementary", { name: "Workspace" });
    if (!(await panel.isVisible())) await header(page).getByRole("button", { name: "Workspace" }).click();
    await panel.getByRole("tab", { name: /Changes/ }).click();
    await panel.locator(".changes-file", { hasText: "old.md" }).locator(".change-kind", { hasText: "deleted" }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${shots}file-changes.png` });
    await page.close();
  });

  it("shows the built-in agent's /context with its file tree line by line", async () => {
    const files = { "src/index.ts": "export {};\n", "src/lib/util.ts": "export const x = 1;\n", "package.json": '{"name":"tree-demo"}\n' };
    const created = await server.api("POST", "/v1/sessions", { agent: "airlock", workspace: { files } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const page = await open(`/sessions/${created.body.id}`);
    await idle(page);
    const before = llm.requests.length;
    await send(page, "/context");
    const tree = page.locator(".agent-message .code-block", { hasText: "util.ts" });
    await tree.waitFor({ timeout: 30_000 });
    const lines = (await tree.locator("code").innerText()).split("\n");
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^src\/$/), expect.stringMatching(/^\s+lib\/$/), expect.stringMatching(/^\s+util\.ts/), expect.stringMatching(/^\s+index\.ts/)]));
    expect(llm.requests.length).toBe(before);
    await page.close();
  });

  it("cancels a slow turn with Esc, queues a prompt sent during a turn, works on a phone-sized dark screen, and stops", async () => {
    const page = await open();
    await startSession(page);
    await send(page, "slow 30");
    await page.getByText("chunk 2,").waitFor({ timeout: 20_000 });
    await send(page, "plan");
    await page.locator(".turn-header.queued", { hasText: "plan" }).waitFor();
    await page.getByRole("textbox", { name: "Prompt" }).press("Escape");
    await page.locator(".turn-footer.warn", { hasText: "Cancelled" }).waitFor({ timeout: 10_000 });
    // the queued prompt then runs
    await page.locator(".card.plan", { hasText: "3/3 done" }).waitFor({ timeout: 20_000 });
    await idle(page);
    expect(await page.locator(".turn-header.queued").count()).toBe(0);

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", isMobile: true, hasTouch: true });
    const small = await open(new URL(page.url()).pathname, phone);
    await small.locator(".card.plan", { hasText: "3/3 done" }).waitFor({ timeout: 20_000 });
    await expect(small.locator(".sidebar").isVisible()).resolves.toBe(false);
    await small.screenshot({ path: `${shots}phone-dark.png` });
    await small.getByRole("button", { name: "Open the sessions menu" }).click();
    await small.locator(".sidebar.open .session-row").first().waitFor();
    await small.waitForTimeout(300); // the drawer slides in
    await small.screenshot({ path: `${shots}phone-menu.png` });
    await phone.close();

    // Stop asks for a second click, then the sandbox goes, the log stays readable, and the prompt box closes.
    await header(page).getByRole("button", { name: "Stop session" }).click();
    await header(page).getByRole("button", { name: /Confirm: stop this session/ }).click();
    await header(page).locator(".badge", { hasText: "Stopped" }).waitFor({ timeout: 20_000 });
    await page.locator(".banner.info", { hasText: "stopped" }).waitFor({ timeout: 10_000 });
    await header(page).locator(".connection", { hasText: "Ended" }).waitFor({ timeout: 10_000 });
    await expect(page.getByRole("textbox", { name: "Prompt" }).isDisabled()).resolves.toBe(true);
    await page.locator(".card.plan", { hasText: "3/3 done" }).waitFor();
    await page.screenshot({ path: `${shots}stopped.png` });
    await page.close();
  });
  it("keeps secrets on their own page: adds, replaces and deletes one, never showing a value", async () => {
    const value = "ui-secret-value-7f3a9c";
    const page = await open("/");
    await page.locator(".sidebar-foot").getByRole("link", { name: "Secrets" }).click();
    await page.waitForURL(/\/secrets$/);
    await page.getByRole("heading", { name: "Secrets", exact: true }).waitFor();
    const form = page.getByRole("form", { name: "Add a secret" });
    // a bad name is named as such before anything is sent
    await form.getByLabel("Name").fill("1BAD");
    await form.locator(".field-hint.error", { hasText: "Letters, digits and _" }).waitFor();
    await expect(form.getByRole("button", { name: "Save" }).isDisabled()).resolves.toBe(true);
    await form.getByLabel("Name").fill("UI_TOKEN");
    await form.getByLabel("Value").fill(value);
    await form.getByRole("button", { name: "Save" }).click();
    const row = page.getByRole("row").filter({ hasText: "UI_TOKEN" });
    await row.waitFor();
    expect(await page.content()).not.toContain(value);
    expect((await server.api("GET", "/v1/secrets")).body.secrets.map((s: any) => s.name)).toContain("UI_TOKEN");
    // the same name again replaces it
    await form.getByLabel("Name").fill("UI_TOKEN");
    await form.getByRole("button", { name: "Replace" }).waitFor();
    await form.getByLabel("Value").fill(`${value}-2`);
    await form.getByRole("button", { name: "Replace" }).click();
    await page.locator(".toast", { hasText: "Replaced UI_TOKEN" }).waitFor();
    await page.screenshot({ path: `${shots}secrets.png` });
    // delete asks for a second click
    await row.getByRole("button", { name: "Delete UI_TOKEN" }).click();
    await row.getByRole("button", { name: "Confirm deleting UI_TOKEN" }).click();
    await page.getByText("No secrets yet.").waitFor();
    expect((await server.api("GET", "/v1/secrets")).body.secrets).toEqual([]);
    // a reload opens the same page
    await page.reload();
    await page.getByRole("heading", { name: "Secrets", exact: true }).waitFor();
    await page.close();
  });
});
