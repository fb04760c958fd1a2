/** Form fields shared by the dashboard's forms (deployment-forms.tsx, experiment-form.tsx). */

/** A labelled text input, with an optional hint the input is described by. */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  set: (v: string) => void;
  hint?: string;
  list?: string;
  inputMode?: 'decimal';
}) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={props.value}
        list={props.list}
        inputMode={props.inputMode}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.set(e.currentTarget.value)}
      />
      {props.hint && (
        <p id={`${props.id}-hint`} class="muted">
          {props.hint}
        </p>
      )}
    </>
  );
}
