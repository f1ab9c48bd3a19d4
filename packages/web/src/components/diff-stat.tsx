/** "+3 −1": how many lines a change adds and removes. */
export function DiffStat({ added, removed }: { added: number; removed: number }) {
  return (
    <span className="diff-stat" aria-label={`${added} added, ${removed} removed`}>
      <span className="plus" aria-hidden>+{added}</span>
      <span className="minus" aria-hidden>−{removed}</span>
    </span>
  );
}
