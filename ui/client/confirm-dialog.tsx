/**
 * A confirmation asked in a modal <dialog> (the browser's own: focus kept inside, Escape closes it, the page behind
 * inert). `useConfirm()` answers the dialog element to render and an `ask(message)` that resolves true on "confirm".
 */
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

export function useConfirm(confirmLabel: string): {
  dialog: ComponentChildren;
  ask: (message: ComponentChildren) => Promise<boolean>;
} {
  const ref = useRef<HTMLDialogElement>(null);
  const [message, setMessage] = useState<ComponentChildren>(null);
  const answer = useRef<(confirmed: boolean) => void>(() => {});
  const close = (confirmed: boolean) => {
    ref.current?.close();
    answer.current(confirmed);
    answer.current = () => {};
  };
  const ask = (text: ComponentChildren) =>
    new Promise<boolean>((done) => {
      answer.current(false);
      answer.current = done;
      setMessage(text);
      ref.current?.showModal();
    });
  const dialog = (
    <dialog ref={ref} onCancel={() => close(false)} aria-labelledby="confirm-message">
      <p id="confirm-message">{message}</p>
      <div class="actions">
        <button type="button" onClick={() => close(false)} autoFocus>
          Keep
        </button>
        <button type="button" class="danger" onClick={() => close(true)}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
  return { dialog, ask };
}
