/**
 * go-template: the part of Go's text/template that `--format` users write for skopeo, podman
 * and docker: `{{.Field.Sub}}`, `{{json .X}}`, `{{index .Labels "k"}}`, `{{join .Env ","}}`,
 * `{{range .Layers}}{{.}}{{end}}`, `{{if .X}}…{{else}}…{{end}}`, `{{len .X}}`, `{{upper .X}}`,
 * `{{lower .X}}`. Values print as Go prints them: lists as `[a b]`, maps as `map[k:v]`
 * (keys sorted), a missing map key as `<no value>`. A field the document lacks is an error.
 */
import {UsageError} from '../errors.js'

type Node =
  | {kind: 'text'; text: string}
  | {kind: 'action'; words: string[]}
  | {kind: 'range'; words: string[]; body: Node[]; otherwise: Node[]}
  | {kind: 'if'; words: string[]; body: Node[]; otherwise: Node[]}

const NO_VALUE = Symbol('no value')

/** renderTemplate evaluates `template` against `data`; a UsageError (exit 2) when it cannot. */
export function renderTemplate(template: string, data: unknown): string {
  return compileTemplate(template)(data)
}

/** compileTemplate parses a template once (syntax errors now, before any work is done). */
export function compileTemplate(template: string): (data: unknown) => string {
  const tokens = tokenize(template)
  let pos = 0
  const parse = (inBlock: boolean): {nodes: Node[]; end: 'end' | 'else' | 'eof'} => {
    const nodes: Node[] = []
    while (pos < tokens.length) {
      const t = tokens[pos++]
      if (typeof t === 'string') {
        nodes.push({kind: 'text', text: t})
        continue
      }
      const [head, ...rest] = t
      if (head === 'end' || head === 'else') {
        if (!inBlock) throw bad(`unexpected {{${head}}}`)
        return {nodes, end: head}
      }
      if (head === 'range' || head === 'if') {
        if (rest.length === 0) throw bad(`{{${head}}} needs a value`)
        const body = parse(true)
        let otherwise: Node[] = []
        if (body.end === 'else') {
          const e = parse(true)
          if (e.end !== 'end') throw bad(`{{${head}}} without {{end}}`)
          otherwise = e.nodes
        } else if (body.end !== 'end') throw bad(`{{${head}}} without {{end}}`)
        nodes.push({kind: head, words: rest, body: body.nodes, otherwise})
        continue
      }
      nodes.push({kind: 'action', words: t})
    }
    if (inBlock) throw bad('a block without {{end}}')
    return {nodes, end: 'eof'}
  }
  const root = parse(false).nodes
  return (data) => run(root, data, data)
}

function bad(why: string): UsageError {
  return new UsageError(`--format: ${why}`, {code: 'BAD_TEMPLATE'})
}

/** tokenize splits text and `{{ … }}` actions (words, with quoted strings kept whole). */
function tokenize(template: string): Array<string | string[]> {
  const out: Array<string | string[]> = []
  let i = 0
  while (i < template.length) {
    const open = template.indexOf('{{', i)
    if (open < 0) {
      out.push(template.slice(i))
      break
    }
    if (open > i) out.push(template.slice(i, open))
    const close = template.indexOf('}}', open + 2)
    if (close < 0) throw bad('unclosed {{')
    let inner = template.slice(open + 2, close)
    if (inner.startsWith('-')) {
      inner = inner.slice(1)
      if (typeof out.at(-1) === 'string') out[out.length - 1] = (out.at(-1) as string).trimEnd()
    }
    let trimAfter = false
    if (inner.endsWith('-')) {
      inner = inner.slice(0, -1)
      trimAfter = true
    }
    const words = inner.match(/"(?:[^"\\]|\\.)*"|[^\s]+/g) ?? []
    if (words.length === 0) throw bad('empty action {{}}')
    out.push(words)
    i = close + 2
    if (trimAfter) while (i < template.length && /\s/.test(template[i])) i++
  }
  return out
}

function run(nodes: Node[], dot: unknown, root: unknown): string {
  let s = ''
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        s += n.text
        break
      case 'action':
        s += show(evaluate(n.words, dot, root))
        break
      case 'if':
        s += run(truthy(evaluate(n.words, dot, root)) ? n.body : n.otherwise, dot, root)
        break
      case 'range': {
        const v = evaluate(n.words, dot, root)
        const items = Array.isArray(v) ? v : isMap(v) ? Object.keys(v).sort().map((k) => v[k]) : []
        if (items.length === 0) s += run(n.otherwise, dot, root)
        for (const item of items) s += run(n.body, item, root)
        break
      }
    }
  }
  return s
}

function evaluate(words: string[], dot: unknown, root: unknown): unknown {
  const [head, ...args] = words
  if (head.startsWith('.') || head.startsWith('$') || head.startsWith('"')) {
    if (args.length > 0) throw bad(`${words.join(' ')}: ${head} is not a function`)
    return operand(head, dot, root)
  }
  const vals = args.map((a) => operand(a, dot, root))
  const need = (n: number) => {
    if (vals.length !== n) throw bad(`${head} takes ${n} argument${n === 1 ? '' : 's'}`)
  }
  switch (head) {
    case 'json':
      need(1)
      return JSON.stringify(vals[0] === NO_VALUE ? null : vals[0])
    case 'index': {
      if (vals.length < 2) throw bad('index takes a value and keys')
      let v = vals[0]
      for (const k of vals.slice(1)) v = Array.isArray(v) ? v[Number(k)] : isMap(v) ? (k as string) in v ? v[k as string] : NO_VALUE : NO_VALUE
      return v
    }
    case 'join':
      need(2)
      if (!Array.isArray(vals[0])) return ''
      return vals[0].map(show).join(String(vals[1]))
    case 'len':
      need(1)
      return Array.isArray(vals[0]) ? vals[0].length : isMap(vals[0]) ? Object.keys(vals[0]).length : typeof vals[0] === 'string' ? vals[0].length : 0
    case 'upper':
      need(1)
      return show(vals[0]).toUpperCase()
    case 'lower':
      need(1)
      return show(vals[0]).toLowerCase()
    default:
      throw bad(`function "${head}" not defined`)
  }
}

function operand(word: string, dot: unknown, root: unknown): unknown {
  if (word.startsWith('"')) {
    try {
      return JSON.parse(word) as string
    } catch {
      throw bad(`bad string ${word}`)
    }
  }
  let v = word.startsWith('$') ? root : dot
  const path = word.replace(/^\$/, '').replace(/^\./, '')
  if (path === '') return v
  for (const key of path.split('.')) {
    if (v === NO_VALUE || v === null || v === undefined) return NO_VALUE
    if (isStruct(v, root) && !(key in (v as object))) throw bad(`can't evaluate field ${key}`)
    v = isMap(v) ? (key in v ? v[key] : NO_VALUE) : NO_VALUE
  }
  return v
}

/** the top document behaves as a Go struct (unknown fields are errors); nested objects as maps */
function isStruct(v: unknown, root: unknown): boolean {
  return v === root
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function truthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (isMap(v)) return Object.keys(v).length > 0
  return true
}

/** show prints a value as Go's fmt does for %v. */
function show(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return '<no value>'
  if (v === null) return '<nil>'
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${show(v[k])}`).join(' ')}]`
  return String(v)
}
