/** Shown at the end of the conversation while a turn runs and nothing is streaming into view. */
export function WorkingIndicator({ waiting }: { waiting: boolean }) {
  return (
    <div className={`working${waiting ? " waiting" : ""}`} role="status">
      {waiting ? (
        "Waiting for your decision above"
      ) : (
        <>
          <span className="dots" aria-hidden>
            <span />
            <span />
            <span />
          </span>
          Working
        </>
      )}
    </div>
  );
}
