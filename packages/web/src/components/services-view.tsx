/**
 * The session's background services (from its setup): each one's status, and the log of the one opened, read
 * again every few seconds while it runs. The list is read again whenever a `service.status` event arrives.
 */
import { useEffect, useRef, useState } from "react";
import type { ServiceList, ServiceLog, ServiceView } from "@airlock/protocol";
import { client } from "../api/client.ts";
import { BackIcon } from "./icons.tsx";

const logLines = 500;
const logRefreshMs = 3000;

export function ServicesView({ sessionId, version }: { sessionId: string; version: number }) {
  const [list, setList] = useState<ServiceList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    client.sessions.services(sessionId).then(
      (l) => {
        if (!alive) return;
        setList(l);
        setError(null);
      },
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [sessionId, version]);

  if (error) return <div className="viewer-status error">{error}</div>;
  if (!list) return <div className="viewer-status">Loading…</div>;
  if (list.services.length === 0) return <div className="viewer-status">This session has no services.</div>;
  const service = open ? list.services.find((s) => s.name === open) : undefined;
  if (service) {
    return (
      <div className="service-open">
        <div className="file-crumbs">
          <button type="button" className="btn ghost small" onClick={() => setOpen(null)}>
            <BackIcon size={14} /> Services
          </button>
          <span className="file-crumb-path">{service.name}</span>
          <ServiceStatus service={service} />
        </div>
        <ServiceLogView sessionId={sessionId} service={service} version={version} />
      </div>
    );
  }
  return (
    <ul className="services" aria-label="Services">
      {list.services.map((s) => (
        <li key={s.name}>
          <button type="button" className="service-row" onClick={() => setOpen(s.name)} aria-label={`Open the log of ${s.name}`}>
            <span className="service-name">{s.name}</span>
            <ServiceStatus service={s} />
            <code className="service-command" title={s.command}>
              {s.command}
            </code>
            {s.readyPort !== null && (
              <span className="service-port">
                port {s.readyPort}
                {s.readyPath ?? ""}
              </span>
            )}
          </button>
        </li>
      ))}
    </ul>
  );
}

function ServiceStatus({ service }: { service: ServiceView }) {
  const text =
    service.status === "exited" ? (service.signal ? `exited (${service.signal})` : `exited (code ${service.exitCode ?? "?"})`) : service.status;
  const tone = service.status === "running" ? "ok" : service.status === "starting" ? "busy" : service.status === "exited" && service.exitCode !== 0 ? "bad" : "idle";
  return <span className={`service-status ${tone}`}>{text}</span>;
}

function ServiceLogView({ sessionId, service, version }: { sessionId: string; service: ServiceView; version: number }) {
  const [log, setLog] = useState<ServiceLog | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const pane = useRef<HTMLPreElement>(null);
  const live = service.status === "running" || service.status === "starting";
  useEffect(() => {
    let alive = true;
    client.sessions.serviceLog(sessionId, service.name, { tail: logLines }).then(
      (l) => {
        if (!alive) return;
        setLog(l);
        setError(null);
      },
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [sessionId, service.name, version, tick]);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => !document.hidden && setTick((n) => n + 1), logRefreshMs);
    return () => clearInterval(t);
  }, [live]);
  useEffect(() => {
    const el = pane.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log]);

  if (error) return <div className="viewer-status">{error}</div>;
  if (!log) return <div className="viewer-status">Loading…</div>;
  return (
    <div className="service-log">
      {log.truncated && <div className="terminal-clipped">Showing the last {log.lines.length} lines.</div>}
      <pre ref={pane} tabIndex={0} aria-label={`Log of ${service.name}`}>
        {log.lines.length ? log.lines.join("\n") : "(no output yet)"}
      </pre>
    </div>
  );
}
