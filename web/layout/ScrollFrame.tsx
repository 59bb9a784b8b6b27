import { useEffect, useRef, useState, type HTMLAttributes, type ReactNode } from 'react';

/** Whether the element's content is larger than the element (so it scrolls); follows resizes. */
function useOverflows(ref: React.RefObject<HTMLElement | null>): boolean {
  const [overflows, setOverflows] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const measure = () => setOverflows(el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
    const observer = new ResizeObserver(measure);
    // The frame changes width with the window; its content with its rows.
    observer.observe(el);
    for (const child of Array.from(el.children)) observer.observe(child);
    measure();
    return () => observer.disconnect();
  }, [ref]);
  return overflows;
}

export interface ScrollFrameProps extends Omit<HTMLAttributes<HTMLDivElement>, 'role' | 'tabIndex'> {
  /** What the frame holds, for screen readers ("Rounds", say): it names the region while it scrolls. */
  label: string;
  children: ReactNode;
}

/**
 * A frame that scrolls wide content (a table on a phone) sideways inside itself, so the page never
 * does; or long content (a list with a maximum height) up and down. While its content overflows it is a labelled, focusable region: keyboard users can then scroll
 * it with the arrow keys (WCAG 2.1.1, axe's scrollable-region-focusable). While it fits it is a plain
 * div, and adds no tab stop.
 */
export function ScrollFrame({ label, children, className = 'table-wrap', ...rest }: ScrollFrameProps) {
  const ref = useRef<HTMLDivElement>(null);
  const overflows = useOverflows(ref);
  return (
    <div ref={ref} className={className} {...rest} {...(overflows ? { tabIndex: 0, role: 'region', 'aria-label': label } : {})}>
      {children}
    </div>
  );
}
