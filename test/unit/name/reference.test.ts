import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {
  Reference,
  Repository,
  apiHostOf,
  isInsecureByDefault,
  parseReference,
  parseRegistry,
  parseRepository,
} from '../../../src/lib/name/reference.js'

const D256 = 'sha256:' + 'a'.repeat(64)
const D512 = 'sha512:' + '0123456789abcdef'.repeat(8)

/** usage asserts fn throws a UsageError whose message contains every fragment. */
function usage(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isOcitoolError(e), `not an OcitoolError: ${String(e)}`)
    assert.equal(e.code, 'USAGE')
    assert.equal(e.exitCode, 2)
    for (const f of fragments) assert.ok(e.message.includes(f), `${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`)
    return true
  })
}

interface Accept {
  in: string
  want: string
  registry?: string
  apiHost?: string
  repository?: string
  tag?: string
  digest?: string
}

describe('parseReference accepts', () => {
  const cases: Accept[] = [
    {in: 'ubuntu', want: 'index.docker.io/library/ubuntu:latest', apiHost: 'registry-1.docker.io', tag: 'latest'},
    {in: 'ubuntu:22.04', want: 'index.docker.io/library/ubuntu:22.04', tag: '22.04'},
    {in: 'docker.io/ubuntu', want: 'index.docker.io/library/ubuntu:latest', registry: 'index.docker.io'},
    {in: 'docker.io/library/ubuntu', want: 'index.docker.io/library/ubuntu:latest'},
    {in: 'DOCKER.IO/ubuntu', want: 'index.docker.io/library/ubuntu:latest'},
    {in: 'registry-1.docker.io/ubuntu', want: 'index.docker.io/library/ubuntu:latest'},
    {in: `index.docker.io/library/ubuntu@${D256}`, want: `index.docker.io/library/ubuntu@${D256}`, tag: undefined, digest: D256},
    {in: 'bitnami/redis', want: 'index.docker.io/bitnami/redis:latest', repository: 'bitnami/redis'},
    {in: 'localhost/x', want: 'localhost/x:latest', registry: 'localhost', apiHost: 'localhost'},
    {in: 'localhost:5000/a/b/c:tag', want: 'localhost:5000/a/b/c:tag', registry: 'localhost:5000', repository: 'a/b/c', tag: 'tag'},
    {in: 'localhost:5000', want: 'index.docker.io/library/localhost:5000', tag: '5000'},
    {in: '[::1]:5000/x', want: '[::1]:5000/x:latest', registry: '[::1]:5000', repository: 'x'},
    {in: '[::1]/x:v1', want: '[::1]/x:v1', registry: '[::1]'},
    {in: '[2001:db8::1]:443/a/b', want: '[2001:db8::1]:443/a/b:latest'},
    {in: '127.0.0.1:5103/seed/small', want: '127.0.0.1:5103/seed/small:latest', registry: '127.0.0.1:5103', apiHost: '127.0.0.1:5103'},
    {in: `gcr.io/proj/img@${D256}`, want: `gcr.io/proj/img@${D256}`, digest: D256},
    {in: `gcr.io/proj/img@${D512}`, want: `gcr.io/proj/img@${D512}`, digest: D512},
    {in: 'host.example.com/a_b/c__d/e--f:v1.0-rc_1', want: 'host.example.com/a_b/c__d/e--f:v1.0-rc_1', repository: 'a_b/c__d/e--f'},
    {in: `ubuntu:22.04@${D256}`, want: `index.docker.io/library/ubuntu:22.04@${D256}`, tag: '22.04', digest: D256},
    {in: `ghcr.io/o/r:v1@${D256}`, want: `ghcr.io/o/r:v1@${D256}`, tag: 'v1', digest: D256},
    {in: 'Example.COM/x', want: 'Example.COM/x:latest', registry: 'Example.COM'},
    {in: 'my-registry.example:65535/x', want: 'my-registry.example:65535/x:latest'},
    {in: 'a.b/c', want: 'a.b/c:latest', registry: 'a.b'},
    {in: 'a/b/c/d/e', want: 'index.docker.io/a/b/c/d/e:latest', repository: 'a/b/c/d/e'},
    {in: 'x.y', want: 'index.docker.io/library/x.y:latest', repository: 'library/x.y'},
    {in: 'a-b---c/d', want: 'index.docker.io/a-b---c/d:latest'},
    {in: 'img:_x', want: 'index.docker.io/library/img:_x'},
    {in: 'img:UPPER.case-ok', want: 'index.docker.io/library/img:UPPER.case-ok'},
    {in: `img:${'t'.repeat(128)}`, want: `index.docker.io/library/img:${'t'.repeat(128)}`},
    {in: `example.com/${'a'.repeat(255)}`, want: `example.com/${'a'.repeat(255)}:latest`},
    {in: '0/1', want: 'index.docker.io/0/1:latest'},
    {in: 'quay.io/coreos/etcd:v3.5.0', want: 'quay.io/coreos/etcd:v3.5.0'},
    {in: '10.0.0.1:5000/team/app:2024.01.01', want: '10.0.0.1:5000/team/app:2024.01.01'},
    {in: 'registry.local/x', want: 'registry.local/x:latest'},
  ]
  for (const c of cases) {
    it(c.in, () => {
      const ref = parseReference(c.in)
      assert.equal(ref.toString(), c.want)
      assert.equal(String(ref), c.want)
      for (const k of ['registry', 'apiHost', 'repository'] as const) {
        if (c[k] !== undefined) assert.equal(ref[k], c[k], k)
      }
      if ('tag' in c) assert.equal(ref.tag, c.tag)
      if ('digest' in c) assert.equal(ref.digest, c.digest)
      assert.equal(ref.name, `${ref.registry}/${ref.repository}`)
      assert.equal(ref.context(), ref.name)
      assert.equal(ref.identifier, ref.digest ?? ref.tag)
    })
  }
})

describe('parseReference rejects', () => {
  const cases: {in: string; want: string[]}[] = [
    {in: '', want: ['invalid reference ""', 'empty']},
    {in: 'Foo/bar', want: ['invalid reference "Foo/bar": repository name must be lowercase']},
    {in: 'Ubuntu', want: ['"Ubuntu"', 'must be lowercase']},
    {in: 'gcr.io/Proj/img', want: ['must be lowercase']},
    {in: 'a//b', want: ['"a//b"', 'empty component']},
    {in: 'a/', want: ['"a/"', 'ends with "/"']},
    {in: '/a', want: ['starts with "/"']},
    {in: 'gcr.io/', want: ['repository name is empty']},
    {in: ':tag', want: ['":tag"', 'repository name is empty']},
    {in: `@${D256}`, want: ['repository name is empty']},
    {in: 'repo:', want: ['"repo:"', 'tag after ":" is empty']},
    {in: 'repo@', want: ['digest after "@" is empty']},
    {in: 'repo@sha256:abc', want: ['"repo@sha256:abc"', 'sha256 digest must be 64 lowercase hex characters, got 3']},
    {in: `repo@sha256:${'A'.repeat(64)}`, want: ['must be lowercase hex']},
    {in: `repo@sha256:${'g'.repeat(64)}`, want: ['64 lowercase hex']},
    {in: `repo@sha512:${'a'.repeat(64)}`, want: ['sha512 digest must be 128']},
    {in: `repo@md5:${'a'.repeat(32)}`, want: ['unsupported digest algorithm "md5"']},
    {in: 'repo@abc', want: ['algorithm:hex']},
    {in: `repo@${D256}@${D256}`, want: ['more than one "@"']},
    {in: 'a'.repeat(256), want: ['longer than 255 characters']},
    {in: 'library/' + 'a'.repeat(248), want: ['longer than 255 characters (256)']},
    {in: `img:${'t'.repeat(129)}`, want: ['tag is longer than 128 characters (129)']},
    {in: 'img:-x', want: ['tag "-x" is invalid']},
    {in: 'img:.x', want: ['tag ".x" is invalid']},
    {in: 'img:a+b', want: ['tag "a+b" is invalid']},
    {in: 'ubuntu 22.04', want: ['whitespace']},
    {in: ' ubuntu', want: ['whitespace']},
    {in: 'ubuntu\n', want: ['whitespace']},
    {in: 'ubuntü', want: ['only ASCII']},
    {in: 'ghcr.io/ünï/x', want: ['only ASCII']},
    {in: 'img\u0000', want: ['control characters']},
    {in: 'host:99999/x', want: ['port 99999 is out of range (1-65535)']},
    {in: 'host:0/x', want: ['port 0 is out of range']},
    {in: 'host:/x', want: ['port after ":" is empty']},
    {in: 'host:http/x', want: ['port "http" must be a number']},
    {in: '-abc', want: ['"-abc"', 'component "-abc" is invalid']},
    {in: 'abc-', want: ['component "abc-" is invalid']},
    {in: 'a..b', want: ['component "a..b" is invalid']},
    {in: 'a___b', want: ['component "a___b" is invalid']},
    {in: '_a', want: ['component "_a" is invalid']},
    {in: '-host.com/x', want: ['registry host "-host.com" is invalid']},
    {in: 'host..com/x', want: ['has an empty label']},
    {in: 'host_name.com/x', want: ['registry host "host_name.com" is invalid']},
    {in: '::1/x', want: ['IPv6 addresses need brackets']},
    {in: '[::1', want: ['registry needs a repository']},
    {in: '[::1]:5000', want: ['registry needs a repository']},
    {in: '[::g]/x', want: ['is not an IPv6 address']},
    {in: '[::1/x', want: ['no closing "]"']},
    {in: 'https://ghcr.io/x', want: ['drop "https://"']},
    {in: 'a'.repeat(64), want: ['image ID']},
  ]
  for (const c of cases) {
    it(JSON.stringify(c.in).slice(0, 60), () => usage(() => parseReference(c.in), ...c.want))
  }
})

describe('parseReference options', () => {
  it('defaultRegistry applies to names without a registry', () => {
    const ref = parseReference('ubuntu', {defaultRegistry: 'localhost:5000'})
    assert.equal(ref.toString(), 'localhost:5000/ubuntu:latest')
    assert.equal(parseReference('ghcr.io/x', {defaultRegistry: 'localhost:5000'}).registry, 'ghcr.io')
  })
  it('defaultRegistry docker.io adds library/', () => {
    assert.equal(parseReference('ubuntu', {defaultRegistry: 'docker.io'}).repository, 'library/ubuntu')
  })
  it('a bad defaultRegistry is a usage error', () => usage(() => parseReference('x', {defaultRegistry: 'a b'}), 'whitespace'))
  it('requireTagOrDigest refuses a bare name', () => usage(() => parseReference('ubuntu', {requireTagOrDigest: true}), 'a tag or digest is required'))
  it('requireTagOrDigest accepts a tag or digest', () => {
    assert.equal(parseReference('ubuntu:1', {requireTagOrDigest: true}).tag, '1')
    assert.equal(parseReference(`ubuntu@${D256}`, {requireTagOrDigest: true}).digest, D256)
  })
})

describe('Reference', () => {
  const ref = parseReference('ghcr.io/o/r:v1')
  it('is a Repository', () => {
    assert.ok(ref instanceof Reference)
    assert.ok(ref instanceof Repository)
  })
  it('identifier is the tag, or the digest when present', () => {
    assert.equal(ref.identifier, 'v1')
    assert.equal(parseReference(`ghcr.io/o/r:v1@${D256}`).identifier, D256)
  })
  it('withTag replaces the tag and drops the digest', () => {
    const t = parseReference(`ghcr.io/o/r:v1@${D256}`).withTag('v2')
    assert.equal(t.toString(), 'ghcr.io/o/r:v2')
    assert.equal(t.digest, undefined)
    assert.equal(t.identifier, 'v2')
  })
  it('withDigest keeps the tag for display', () => {
    const d = ref.withDigest(D256)
    assert.equal(d.toString(), `ghcr.io/o/r:v1@${D256}`)
    assert.equal(d.identifier, D256)
    assert.equal(ref.toString(), 'ghcr.io/o/r:v1', 'the original is unchanged')
  })
  it('withTag and withDigest validate', () => {
    usage(() => ref.withTag('-bad'), 'invalid tag "-bad"')
    usage(() => ref.withDigest('sha256:abc'), 'invalid digest', '64 lowercase hex')
  })
  it('repo() drops tag and digest', () => {
    const r = parseReference(`ghcr.io/o/r:v1@${D256}`).repo()
    assert.equal(r.toString(), 'ghcr.io/o/r')
    assert.ok(!(r instanceof Reference))
  })
  it('serialises to JSON as its string form', () => {
    assert.equal(JSON.stringify({ref}), '{"ref":"ghcr.io/o/r:v1"}')
  })
  it('knows Docker Hub', () => {
    assert.equal(parseReference('ubuntu').isDockerHub, true)
    assert.equal(ref.isDockerHub, false)
  })
})

describe('parseRepository', () => {
  for (const c of [
    {in: 'ubuntu', want: 'index.docker.io/library/ubuntu'},
    {in: 'ghcr.io/o/r', want: 'ghcr.io/o/r'},
    {in: 'localhost:5000/a/b', want: 'localhost:5000/a/b'},
    {in: '[::1]:5000/x', want: '[::1]:5000/x'},
  ]) {
    it(c.in, () => {
      const repo = parseRepository(c.in)
      assert.equal(repo.toString(), c.want)
      assert.equal(repo.name, c.want)
    })
  }
  for (const c of [
    {in: 'ghcr.io/o/r:v1', want: ['invalid repository "ghcr.io/o/r:v1"', 'drop ":v1"']},
    {in: `ghcr.io/o/r@${D256}`, want: ['has no digest']},
    {in: 'localhost:5000', want: ['has no tag']},
    {in: 'Foo/bar', want: ['invalid repository "Foo/bar": repository name must be lowercase']},
    {in: '', want: ['empty']},
  ]) {
    it(`rejects ${JSON.stringify(c.in)}`, () => usage(() => parseRepository(c.in), ...c.want))
  }
  it('withTag makes a reference', () => {
    assert.equal(parseRepository('ghcr.io/o/r').withTag('v1').toString(), 'ghcr.io/o/r:v1')
  })
})

describe('parseRegistry', () => {
  for (const c of [
    {in: 'localhost:5000', want: 'localhost:5000'},
    {in: 'ghcr.io', want: 'ghcr.io'},
    {in: 'docker.io', want: 'index.docker.io'},
    {in: 'index.docker.io', want: 'index.docker.io'},
    {in: '127.0.0.1:5103', want: '127.0.0.1:5103'},
    {in: '[::1]:5000', want: '[::1]:5000'},
    {in: '[fe80::1]', want: '[fe80::1]'},
    {in: 'localhost', want: 'localhost'},
  ]) {
    it(c.in, () => assert.equal(parseRegistry(c.in), c.want))
  }
  for (const c of [
    {in: '', want: 'empty'},
    {in: 'localhost:5000/x', want: 'without a path'},
    {in: 'ghcr.io/', want: 'without a path'},
    {in: 'host:99999', want: 'out of range'},
    {in: 'host:', want: 'port after ":" is empty'},
    {in: 'https://ghcr.io', want: 'drop "https://"'},
    {in: 'user@ghcr.io', want: 'without credentials'},
    {in: 'a b', want: 'whitespace'},
    {in: '::1', want: 'IPv6 addresses need brackets'},
    {in: 'bad_host', want: 'is invalid'},
  ]) {
    it(`rejects ${JSON.stringify(c.in)}`, () => usage(() => parseRegistry(c.in), `invalid registry ${JSON.stringify(c.in)}`, c.want))
  }
})

describe('apiHostOf', () => {
  for (const c of [
    {in: 'index.docker.io', want: 'registry-1.docker.io'},
    {in: 'docker.io', want: 'registry-1.docker.io'},
    {in: 'ghcr.io', want: 'ghcr.io'},
    {in: 'localhost:5000', want: 'localhost:5000'},
  ]) {
    it(c.in, () => assert.equal(apiHostOf(c.in), c.want))
  }
})

describe('isInsecureByDefault', () => {
  for (const c of [
    {in: 'localhost', want: true},
    {in: 'localhost:5000', want: true},
    {in: 'LOCALHOST:5000', want: true},
    {in: 'registry.localhost:5000', want: true},
    {in: 'printer.local', want: true},
    {in: 'nas.local:5000', want: true},
    {in: '127.0.0.1', want: true},
    {in: '127.0.0.1:5103', want: true},
    {in: '127.255.1.2:80', want: true},
    {in: '[::1]:5000', want: true},
    {in: '[::1]', want: true},
    {in: '::1', want: true},
    {in: '[0:0:0:0:0:0:0:1]:5000', want: true},
    {in: '10.1.2.3:5000', want: true},
    {in: '172.16.0.1', want: true},
    {in: '172.31.255.255:443', want: true},
    {in: '192.168.1.10:5000', want: true},
    {in: '[::ffff:127.0.0.1]:5000', want: true},
    {in: '172.32.0.1', want: false},
    {in: '172.15.0.1', want: false},
    {in: '11.0.0.1', want: false},
    {in: '8.8.8.8:5000', want: false},
    {in: '192.169.0.1', want: false},
    {in: 'ghcr.io', want: false},
    {in: 'index.docker.io', want: false},
    {in: 'localhost.example.com', want: false},
    {in: 'local', want: false},
    {in: 'mylocal:5000', want: false},
    {in: '[2001:db8::1]:5000', want: false},
    {in: '127.0.0.1.nip.io', want: false},
  ]) {
    it(`${c.in} → ${c.want}`, () => assert.equal(isInsecureByDefault(c.in), c.want))
  }
})
