/**
 * exactPieces regroups a stream into buffers of exactly `size` bytes (the last may be shorter),
 * after skipping `skip` bytes: an upload's PATCH chunks, python-dxf's DXF_CHUNK_SIZE pieces.
 */
export async function* exactPieces(data: AsyncIterable<unknown>, size: number, skip = 0): AsyncGenerator<Buffer> {
  let parts: Buffer[] = []
  let have = 0
  for await (const piece of data) {
    let buf = piece as Buffer
    if (skip > 0) {
      const drop = Math.min(skip, buf.length)
      skip -= drop
      buf = buf.subarray(drop)
    }
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length)
      parts.push(buf.subarray(0, take))
      have += take
      buf = buf.subarray(take)
      if (have === size) {
        yield Buffer.concat(parts)
        parts = []
        have = 0
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts)
}
