/**
 * The web UI end to end in real Chromium (Debian's, driven by playwright-core) against a real server and the
 * scripted agent. Screenshots of the main views land in test-output/screenshots/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";

const shots = fileURLToPath(new URL("../../../test-output/screenshots/", import.meta.url));
const chromiumPath = "/usr/bin/chromium";

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error("Chromium is missing: `apt-get install -y chromium` (bash .ci/run installs it)");
  mkdirSync(shots, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

async function newPage(path = "/"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  page.on("pageerror", (err) => console.error("page error:", err.message));
  await page.goto(server.url + path);
  return page;
}

async function send(page: Page, text: string) {
  const box = page.getByLabel("Prompt");
  await box.fill(text);
  await box.press("Enter");
}

const idle = (page: Page) => page.locator(".session-head .badge", { hasText: "Idle" }).waitFor({ timeout: 20_000 });

async function startSession(page: Page): Promise<string> {
  await page.getByText("Scripted demo agent").waitFor();
  await page.getByRole("button", { name: "Start session" }).click();
  await page.waitForURL(/\/sessions\/ses_/);
  await idle(page);
  return page.url().split("/sessions/")[1];
}

describe("the web UI", () => {
  it("creates a session from the form, streams text, a tool card and a diff, and answers a permission request", async () => {
    const page = await newPage();
    await page.screenshot({ path: `${shots}home.png` });
    await startSession(page);

    await send(page, "tool");
    const card = page.locator(".card.tool").first();
    await card.locator(".pill", { hasText: "Done" }).waitFor({ timeout: 20_000 });
    expect(await card.locator(".diff .line.add").count()).toBeGreaterThan(0);
    await idle(page);
    expect(await page.locator(".block.message").count()).toBeGreaterThan(0);

    await send(page, "permission");
    const request = page.locator(".card.interaction.pending");
    await request.waitFor({ timeout: 20_000 });
    await page.locator(".session-head .badge", { hasText: "Needs you" }).waitFor();
    await page.screenshot({ path: `${shots}permission.png` });
    await request.getByRole("button", { name: "Allow", exact: true }).click();
    await page.locator(".card.interaction.resolved .resolution", { hasText: "Allow" }).waitFor();
    await page.getByText("Permission granted").waitFor({ timeout: 20_000 });
    await idle(page);

    // the workspace panel shows the written file and the session's changes
    const panel = page.getByRole("complementary", { name: "Workspace" });
    if (!(await panel.isVisible())) await page.getByRole("button", { name: "Files" }).click();
    await panel.getByText("permitted.txt").waitFor({ timeout: 10_000 });
    await panel.getByRole("tab", { name: "Changes" }).click();
    await panel.locator(".diff .line.add", { hasText: "+approved" }).waitFor();
    await page.screenshot({ path: `${shots}session.png` });
    await page.close();
  });

  it("shows the same conversation after a reload mid-turn, with nothing missing or doubled", async () => {
    const page = await newPage();
    const id = await startSession(page);
    await send(page, "slow 3");
    await page.getByText("chunk 3", { exact: false }).waitFor({ timeout: 20_000 });
    await page.reload();
    await page.locator(".conn", { hasText: "Live" }).waitFor();
    await idle(page);
    const text = await page.locator(".block.message").last().innerText();
    const numbers = [...text.matchAll(/chunk (\d+)/g)].map((m) => Number(m[1]));
    expect(numbers.length).toBeGreaterThan(20);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    // the page shows exactly what the log holds
    const log = await server.api("GET", `/v1/sessions/${id}/events?limit=1000`);
    const logged = log.body.events.filter((e: any) => e.type === "update").map((e: any) => e.data.content.text).join("");
    expect(logged.replace(/\s+/g, " ").trim()).toBe(text.replace(/\s+/g, " ").trim());
    await page.close();
  });

  it("lets a second tab answer a pending request and updates the first", async () => {
    const first = await newPage();
    const id = await startSession(first);
    await send(first, "permission");
    await first.locator(".card.interaction.pending").waitFor({ timeout: 20_000 });

    const second = await newPage(`/sessions/${id}`);
    const request = second.locator(".card.interaction.pending");
    await request.waitFor({ timeout: 20_000 });
    await request.getByRole("button", { name: "Reject" }).click();
    await first.locator(".card.interaction.resolved .resolution", { hasText: "Reject" }).waitFor({ timeout: 10_000 });
    await first.getByText("Permission denied").waitFor({ timeout: 20_000 });
    await first.close();
    await second.close();
  });

  it("cancels a slow turn with Esc, and works on a phone-sized dark screen", async () => {
    const page = await newPage();
    await startSession(page);
    await send(page, "slow 30");
    await page.getByText("chunk 2", { exact: false }).waitFor({ timeout: 20_000 });
    await page.getByLabel("Prompt").press("Escape");
    await page.locator(".notice", { hasText: "Turn cancelled" }).waitFor({ timeout: 10_000 });
    await idle(page);

    await page.emulateMedia({ colorScheme: "dark" });
    await page.setViewportSize({ width: 390, height: 844 });
    const close = page.getByLabel("Close the workspace panel");
    if (await close.isVisible()) await close.click();
    await send(page, "plan");
    await page.locator(".card.plan", { hasText: "3/3 done" }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${shots}phone-dark.png` });
    await page.close();
  });
});
