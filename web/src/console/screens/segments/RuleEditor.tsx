// The rule tree editor: groups (and / or, optionally negated) of conditions and further groups.
import { SelectField } from "../../ui";
import { Check } from "./checks";
import { LeafFields } from "./LeafFields";
import { useSegments } from "./messages";
import { LEAF_KINDS, newGroup, newLeaf, type LeafKind, type Node } from "./rule";

export const MAX_DEPTH = 8;

export interface EditorProps {
  node: Node;
  /** The API's path of this node (`rule`, `rule.rules[1]`, ...). */
  path: string;
  /** Its number as the person reads it (`1`, `1.2`). */
  label: string;
  depth: number;
  errors: Record<string, string>;
  edit(key: number, f: (n: Node) => Node | null): void;
  root?: boolean;
}

export function RuleEditor(props: EditorProps) {
  const t = useSegments();
  const { node, path, errors, edit } = props;
  const inner = node.negate ? `${path}.rule` : path;
  const name = node.type === "group" ? t("group", { n: props.label }) : t("condition", { n: props.label });
  const own = errors[path] ?? errors[inner];

  return (
    <fieldset className={node.type === "group" ? "seg-group" : "seg-leaf"}>
      <legend>{name}</legend>
      <div className="row seg-head">
        {node.type === "group" ? (
          <SelectField
            label={t("op")}
            value={node.op}
            onChange={(v) => edit(node.key, (n) => ({ ...n, op: v as "and" | "or" }) as Node)}
            options={[
              { value: "and", label: t("and") },
              { value: "or", label: t("or") },
            ]}
          />
        ) : (
          <SelectField
            label={t("leafKind")}
            value={node.leaf.kind}
            onChange={(v) => edit(node.key, () => ({ ...newLeaf(v as LeafKind), key: node.key, negate: node.negate }))}
            options={LEAF_KINDS.map((k) => ({ value: k, label: t(`k_${k}`) }))}
          />
        )}
        <Check label={t("negate")} checked={node.negate} onChange={(v) => edit(node.key, (n) => ({ ...n, negate: v }))} />
        {!props.root && (
          <button type="button" className="secondary" onClick={() => edit(node.key, () => null)}>
            {t("remove", { n: name })}
          </button>
        )}
      </div>
      {own && (
        <p className="error" role="alert">
          {own}
        </p>
      )}
      {node.type === "leaf" ? (
        <LeafFields leaf={node.leaf} at={inner} errors={errors} onChange={(leaf) => edit(node.key, (n) => ({ ...n, leaf }) as Node)} />
      ) : (
        <>
          {errors[`${inner}.rules`] && (
            <p className="error" role="alert">
              {errors[`${inner}.rules`]}
            </p>
          )}
          {node.children.map((c, i) => (
            <RuleEditor
              key={c.key}
              node={c}
              path={`${inner}.rules[${i}]`}
              label={`${props.label}.${i + 1}`}
              depth={props.depth + 1}
              errors={errors}
              edit={edit}
            />
          ))}
          <div className="row">
            <button
              type="button"
              className="secondary"
              onClick={() => edit(node.key, (n) => ({ ...n, children: [...(n as { children: Node[] }).children, newLeaf()] }) as Node)}
            >
              {t("addCondition", { n: name })}
            </button>
            {props.depth + 1 < MAX_DEPTH && (
              <button
                type="button"
                className="secondary"
                onClick={() => edit(node.key, (n) => ({ ...n, children: [...(n as { children: Node[] }).children, newGroup("or")] }) as Node)}
              >
                {t("addGroup", { n: name })}
              </button>
            )}
          </div>
        </>
      )}
    </fieldset>
  );
}
