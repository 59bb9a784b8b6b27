import { useEffect } from 'react';

/** Sets the tab's title to "<title> · Consilium"; `undefined` leaves it to a page rendered inside. */
export function useTitle(title: string | undefined): void {
  useEffect(() => {
    if (title !== undefined) document.title = `${title} · Consilium`;
  }, [title]);
}
