/**
 * The submit form's script editor: CodeMirror 6 with the shell mode of @codemirror/legacy-modes for colouring, line
 * numbers (directive problems name their line) and undo; no more, to stay light. Tab is left to move the focus, as in
 * any form field (CodeMirror binds it only when asked), so the form stays keyboard-navigable.
 *
 * It lives in a shadow root: CodeMirror injects its styles at run time, into a <style> element in a document (which
 * the console's CSP, style-src 'self', blocks: it has no per-page nonce to give) but as constructed stylesheets in a
 * shadow root, which the CSP allows. ARIA ids do not cross into a shadow root, so the editable element is named by
 * aria-label and described by reference to the elements themselves (ariaDescribedByElements) where the browser can.
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'preact/hooks';

interface ScriptEditorProps {
  /** The text it starts with; later changes of it are not applied (remount with a key to start again). */
  initial: string;
  onChange: (text: string) => void;
  /** Its accessible name, and the ids of the elements describing it (hint, error). */
  label: string;
  describedBy?: string[];
  invalid?: boolean;
}

/** Sizes and focus ring in the shadow root, where the page's stylesheets do not reach. */
const theme = EditorView.theme({
  '&': { minHeight: '16rem', maxHeight: '32rem', fontSize: '0.9rem', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', minHeight: '16rem' },
  '&.cm-focused': { outline: '3px solid #0a58ca', outlineOffset: '2px' },
});

export function ScriptEditor({ initial, onChange, label, describedBy = [], invalid }: ScriptEditorProps) {
  const parent = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const changed = useRef(onChange);
  changed.current = onChange;
  const labels = useRef(new Compartment());
  // The editable element is CodeMirror's: it is named and described as the form's other fields are.
  const attributes = () => {
    const names: Record<string, string> = { 'aria-label': label, 'aria-multiline': 'true' };
    if (invalid) names['aria-invalid'] = 'true';
    return EditorView.contentAttributes.of(names);
  };

  useEffect(() => {
    const host = parent.current!;
    const shadow = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
    view.current = new EditorView({
      root: shadow,
      parent: shadow,
      state: EditorState.create({
        doc: initial,
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          StreamLanguage.define(shell),
          syntaxHighlighting(defaultHighlightStyle),
          EditorView.lineWrapping,
          theme,
          labels.current.of(attributes()),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
  }, []);

  const described = describedBy.join(' ');
  useEffect(() => {
    const current = view.current;
    if (!current) return;
    current.dispatch({ effects: labels.current.reconfigure(attributes()) });
    const content = current.contentDOM as HTMLElement & { ariaDescribedByElements?: Element[] | null };
    if ('ariaDescribedByElements' in content) {
      content.ariaDescribedByElements = describedBy.flatMap((id) => document.getElementById(id) ?? []);
    }
  }, [label, described, invalid]);

  return <div ref={parent} class={invalid ? 'script-editor invalid' : 'script-editor'} data-testid="script-editor" />;
}
