/**
 * The app's icons: small stroked SVGs drawn on a 24-unit grid (no icon font, no emoji, which many Linux
 * machines and CI browsers cannot render). They take the text colour and are hidden from screen readers: the
 * control that holds one carries the label.
 */
import type { ReactNode, SVGProps } from "react";

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function make(name: string, body: ReactNode) {
  function Icon({ size = 16, ...rest }: IconProps) {
    return (
      <svg
        className={`icon icon-${name}`}
        width={size}
        height={size}
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth={1.8}
        strokeLinecap="round"
        strokeLinejoin="round"
        aria-hidden="true"
        focusable="false"
        {...rest}
      >
        {body}
      </svg>
    );
  }
  Icon.displayName = `Icon(${name})`;
  return Icon;
}

export const PlusIcon = make("plus", <path d="M12 5v14M5 12h14" />);
export const ArrowUpIcon = make("arrow-up", <path d="M12 19V5M5 12l7-7 7 7" />);
export const StopIcon = make("stop", <rect x="6" y="6" width="12" height="12" rx="2" fill="currentColor" stroke="none" />);
export const SunIcon = make(
  "sun",
  <>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
  </>,
);
export const MoonIcon = make("moon", <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />);
export const PanelIcon = make(
  "panel",
  <>
    <rect x="3" y="4" width="18" height="16" rx="2" />
    <path d="M15 4v16" />
  </>,
);
export const MenuIcon = make("menu", <path d="M4 7h16M4 12h16M4 17h16" />);
export const XIcon = make("x", <path d="M6 6l12 12M18 6L6 18" />);
export const ChevronIcon = make("chevron", <path d="M9 6l6 6-6 6" />);
export const CheckIcon = make("check", <path d="M5 12.5l4.5 4.5L19 7.5" />);
export const AlertIcon = make(
  "alert",
  <>
    <path d="M12 3.5l9.5 16.5h-19z" />
    <path d="M12 10v4.5M12 17.5v.01" />
  </>,
);
export const InfoIcon = make(
  "info",
  <>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 11v5.5M12 7.5v.01" />
  </>,
);
export const FileIcon = make(
  "file",
  <>
    <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
    <path d="M14 3v5h5" />
  </>,
);
export const FolderIcon = make("folder", <path d="M3 6.5A1.5 1.5 0 0 1 4.5 5H9l2 2.5h8.5A1.5 1.5 0 0 1 21 9v9.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z" />);
export const PencilIcon = make("pencil", <path d="M16.5 3.5l4 4L8 20H4v-4zM14 6l4 4" />);
export const TerminalIcon = make(
  "terminal",
  <>
    <rect x="3" y="4" width="18" height="16" rx="2" />
    <path d="M7 9l3 3-3 3M12.5 15H17" />
  </>,
);
export const SearchIcon = make(
  "search",
  <>
    <circle cx="11" cy="11" r="6.5" />
    <path d="M20 20l-4.2-4.2" />
  </>,
);
export const EyeIcon = make(
  "eye",
  <>
    <path d="M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12z" />
    <circle cx="12" cy="12" r="2.8" />
  </>,
);
export const TrashIcon = make("trash", <path d="M4 7h16M9.5 7V4.5h5V7M6.5 7l1 13h9l1-13" />);
export const MoveIcon = make("move", <path d="M4 12h16M16 8l4 4-4 4M8 8l-4 4 4 4" />);
export const GlobeIcon = make(
  "globe",
  <>
    <circle cx="12" cy="12" r="9" />
    <path d="M3 12h18M12 3c2.5 2.6 3.7 5.6 3.7 9s-1.2 6.4-3.7 9c-2.5-2.6-3.7-5.6-3.7-9S9.5 5.6 12 3z" />
  </>,
);
export const SparkIcon = make("spark", <path d="M12 3l1.9 5.6L19.5 10.5l-5.6 1.9L12 18l-1.9-5.6L4.5 10.5l5.6-1.9z" />);
export const BrainIcon = make(
  "brain",
  <>
    <path d="M9 4.5a3 3 0 0 0-3 3v.2A3 3 0 0 0 4.5 13a3 3 0 0 0 2 4.8A3 3 0 0 0 12 19V6a2.5 2.5 0 0 0-3-1.5z" />
    <path d="M15 4.5a3 3 0 0 1 3 3v.2a3 3 0 0 1 1.5 5.3 3 3 0 0 1-2 4.8A3 3 0 0 1 12 19" />
  </>,
);
export const ToolIcon = make("tool", <path d="M14.5 5.5a4 4 0 0 0-5.3 5.3L4 16v4h4l5.2-5.2a4 4 0 0 0 5.3-5.3L16 12l-4-4z" />);
export const ListIcon = make("list", <path d="M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01" />);
export const ShieldIcon = make(
  "shield",
  <>
    <path d="M12 3l7.5 3v5.5c0 4.5-3.2 8.2-7.5 9.5-4.3-1.3-7.5-5-7.5-9.5V6z" />
    <path d="M9 12l2 2 4-4" />
  </>,
);
export const QuestionIcon = make(
  "question",
  <>
    <circle cx="12" cy="12" r="9" />
    <path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5v.7M12 17v.01" />
  </>,
);
export const KeyIcon = make(
  "key",
  <>
    <circle cx="8" cy="15" r="4" />
    <path d="M11 12l9-9M16.5 6.5l2.5 2.5M14 9l2 2" />
  </>,
);
export const CopyIcon = make(
  "copy",
  <>
    <rect x="8" y="8" width="12" height="12" rx="2" />
    <path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" />
  </>,
);
export const RefreshIcon = make("refresh", <path d="M20 11a8 8 0 0 0-14.8-4M4 13a8 8 0 0 0 14.8 4M4 4v4h4M20 20v-4h-4" />);
export const ArrowDownIcon = make("arrow-down", <path d="M12 5v14M5 12l7 7 7-7" />);
export const BackIcon = make("back", <path d="M15 6l-6 6 6 6" />);
export const UploadIcon = make("upload", <path d="M12 16V4M7 9l5-5 5 5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />);
export const BranchIcon = make(
  "branch",
  <>
    <circle cx="6" cy="5.5" r="2" />
    <circle cx="6" cy="18.5" r="2" />
    <circle cx="18" cy="8" r="2" />
    <path d="M6 7.5v9M18 10c0 4-6 3-11 7" />
  </>,
);
export const BoxIcon = make(
  "box",
  <>
    <path d="M21 8l-9-5-9 5v8l9 5 9-5z" />
    <path d="M3 8l9 5 9-5M12 13v8" />
  </>,
);
export const LogoIcon = make(
  "logo",
  <>
    <rect x="3" y="3" width="18" height="18" rx="5" fill="currentColor" stroke="none" />
    <path d="M8.5 16.5v-5a3.5 3.5 0 0 1 7 0v5M8.5 13.5h7" stroke="var(--logo-ink, #fff)" strokeWidth={2} />
  </>,
);
