import { useEffect, useRef, useState } from 'preact/hooks';
import type { Conversation as Conv, Line } from './lines.js';

/** One conversation: its header, its log (older messages on scrolling up), who types, the message box. */
export function Conversation({ conv, onOlder, onSend, onLeave, typists, onTyping, canDelete, onDelete }: {
  conv: Conv; onOlder: () => Promise<void>; onSend: (text: string) => void; onLeave: () => void; typists: string[]; onTyping: (state: 'active' | 'done') => void;
  /** this user may withdraw the line (its own, or any as a channel operator; the server decides) */
  canDelete: (l: Line) => boolean;
  onDelete: (msgid: string) => void;
}) {
  /** the line whose Delete was pressed once: a second press withdraws it */
  const [confirming, setConfirming] = useState<string | undefined>();
  const log = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  useEffect(() => { if (atBottom.current && log.current) log.current.scrollTop = log.current.scrollHeight; }, [conv.lines.length, conv.name]);
  return (
    <section class="conversation" aria-label={conv.name}>
      <header>
        <h2>{conv.name}</h2>
        {conv.name.startsWith('#') && <button type="button" class="leave" onClick={onLeave}>Leave</button>}
        {conv.topic && <p class="topic">{conv.topic}</p>}
      </header>
      <div class="log" role="log" aria-live="polite" ref={log}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (el.scrollTop === 0) void onOlder();
        }}>
        {conv.lines.map((l) => (
          // few nodes per line: a log of 10,000 lines stays within the tab's memory budget (bench/web-client.mjs)
          <div key={l.id} class={`line ${l.kind}${l.mention ? ' mention' : ''}${l.redacted ? ' redacted' : ''}`}>
            <time>{l.time}</time><b title={l.account ? `logged in as ${l.account}` : undefined}>{l.kind === 'event' ? `${l.from} ${l.text}` : l.kind === 'action' ? `* ${l.from}` : l.from}</b>
            {l.signedBy && <span class="signed" role="img" aria-label={`signed for ${l.signedBy}`} title={`signed by the server for ${l.signedBy}`}>✓</span>}
            {l.kind === 'event' ? '' : l.text}
            {l.msgid && !l.redacted && l.kind !== 'event' && l.kind !== 'error' && canDelete(l) && (
              <button type="button" class="delete" aria-label={confirming === l.msgid ? 'Confirm: delete this message' : 'Delete message'}
                onClick={() => { if (confirming === l.msgid) { setConfirming(undefined); onDelete(l.msgid!); } else setConfirming(l.msgid); }}
                onBlur={() => setConfirming((c) => (c === l.msgid ? undefined : c))}>
                {/* the × is drawn by CSS: no text of its own in the line (copying, finding text) */}
                {confirming === l.msgid ? 'Delete?' : ''}
              </button>
            )}
          </div>
        ))}
      </div>
      <p class="typing" aria-live="polite">{typists.length === 0 ? '' : `${typists.slice(0, 3).join(', ')}${typists.length > 3 ? ' and others' : ''} ${typists.length === 1 ? 'is' : 'are'} typing…`}</p>
      <MessageBox key={conv.name} target={conv.name} onSend={onSend} onTyping={onTyping} />
    </section>
  );
}

/** rows the box shows: one per line of the text, up to 6 (counted without splitting a long paste) */
function rowsOf(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && n < 6; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line (a text of several lines is one
 * draft/multiline message). Its text is its own state, so typing (or pasting a long text) does not
 * render the log again.
 */
function MessageBox({ target, onSend, onTyping }: { target: string; onSend: (text: string) => void; onTyping: (state: 'active' | 'done') => void }) {
  const [text, setText] = useState('');
  /** when `active` was last sent: at most every 3 s (IRCv3 typing) */
  const lastActive = useRef(0);
  const edit = (value: string): void => {
    setText(value);
    if (value && Date.now() - lastActive.current > 3000) { lastActive.current = Date.now(); onTyping('active'); }
    if (!value && lastActive.current) { lastActive.current = 0; onTyping('done'); }
  };
  const send = (): void => {
    if (!text.trim()) return;
    onSend(text);
    setText('');
    lastActive.current = 0;
  };
  return (
    <form class="input" onSubmit={(e) => { e.preventDefault(); send(); }}>
      <label for="message" class="sr-only">Message {target}</label>
      <textarea id="message" value={text} rows={rowsOf(text)} placeholder={`Message ${target}`} autoComplete="off" aria-describedby="message-help"
        onInput={(e) => edit((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          // Enter sends; Shift+Enter is a new line; not while an input method is composing
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
        }} />
      <span id="message-help" class="sr-only">Enter sends, Shift+Enter starts a new line</span>
      <button type="submit">Send</button>
    </form>
  );
}
