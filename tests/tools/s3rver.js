#!/usr/bin/env node
// s3rver.js: start s3rver 3.7.1 (./node_modules) for the test stack, with two
// range bugs of that version fixed at load time so it answers like real S3:
//
//   1. `Range: bytes=-N` (suffix range, RFC 9110 14.1.1) is parsed by s3rver
//      as start=NaN/0 and answered with the first N+1 bytes; S3 returns the
//      last N bytes. We rewrite the header to an absolute range before
//      s3rver's GetObject controller sees it.
//   2. `Range: bytes=0-0` is answered with the whole object because the store
//      treats end=0 as "no end" (`options.end || Infinity`). We replace
//      FilesystemStore.getObject with a copy that tests `end !== undefined`.
//
//   3. ListObjectsV2 continuation tokens are DES-encrypted, which OpenSSL 3
//      only offers through its legacy provider: tests/stack.sh starts node
//      with --openssl-legacy-provider (otherwise any listing of more than
//      max-keys objects answers 500 InternalError).
//
//   4. DeleteObject removes the directories it leaves empty, between a
//      concurrent PutObject's mkdirp and its file open in the same
//      directory: the put's write stream then fails with ENOENT in an
//      unhandled 'error' event that kills s3rver (seen with hbee scratch
//      results: workers upload while the coordinator deletes what it read).
//      Object writes and deletes are serialised.
//
// s3rver checks the access key id (S3RVER) but not SigV4 signatures; the SigV4
// tests (tests/unit/aws/test_sigv4.c, tests/python/test_sigv4_botocore.py)
// prove the signer.
//
//   node tests/tools/s3rver.js --port 9000 --directory DIR [--configure-bucket NAME]...
'use strict';

const path = require('path');
const root = path.resolve(__dirname, '..', '..', 'node_modules', 's3rver');
const fs = require(path.join(root, 'node_modules', 'fs-extra'));
const objectCtrl = require(path.join(root, 'lib', 'controllers', 'object'));
const FilesystemStore = require(path.join(root, 'lib', 'stores', 'filesystem'));
const S3Object = require(path.join(root, 'lib', 'models', 'object'));

// Fix 1: suffix ranges.
const origGetObject = objectCtrl.getObject;
objectCtrl.getObject = async function getObject(ctx) {
  const m = /^bytes=-(\d+)$/.exec(ctx.headers.range || '');
  if (m) {
    let meta = null;
    try {
      meta = await ctx.store.getMetadata(ctx.params.bucket, ctx.params.key);
    } catch (e) {
      meta = null;
    }
    if (meta) {
      const size = Number(meta['content-length']);
      const n = Number(m[1]);
      if (size > 0 && n > 0) {
        ctx.headers.range = `bytes=${Math.max(0, size - n)}-${size - 1}`;
      } else {
        delete ctx.headers.range;
      }
    }
  }
  return origGetObject.call(this, ctx);
};

// Fix 2: an explicit end of 0.
FilesystemStore.prototype.getObject = async function getObject(bucket, key, options) {
  try {
    const metadata = await this.getMetadata(bucket, key);
    const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
    const hasEnd = options && options.end !== undefined && !Number.isNaN(options.end);
    const range = {
      start: (options && options.start) || 0,
      end: Math.min(hasEnd ? options.end : Infinity, lastByte),
    };
    const ranged = options && (options.start !== undefined || hasEnd);
    if (range.start < 0 || Math.min(range.end, lastByte) < range.start ||
        (ranged && Number(metadata['content-length']) === 0)) {
      const object = new S3Object(bucket, key, null, metadata);
      if (ranged) object.range = range;
      return object;
    }
    const content = await new Promise((resolve, reject) => {
      const stream = fs
        .createReadStream(this.getResourcePath(bucket, key, 'object'), range)
        .on('error', reject)
        .on('open', () => resolve(stream));
    });
    const object = new S3Object(bucket, key, content, metadata);
    if (ranged) object.range = range;
    return object;
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
};

// Fix 4: puts and deletes one at a time (see the header).
let storeChain = Promise.resolve();
function serialised(fn) {
  return function (...args) {
    const p = storeChain.then(() => fn.apply(this, args));
    storeChain = p.catch(() => {});
    return p;
  };
}
FilesystemStore.prototype.putObject = serialised(FilesystemStore.prototype.putObject);
FilesystemStore.prototype.deleteObject = serialised(FilesystemStore.prototype.deleteObject);

const S3rver = require(root);

const args = process.argv.slice(2);
const opts = { address: '127.0.0.1', port: 0, silent: true, directory: null, buckets: [] };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--port' || a === '-p') opts.port = Number(args[++i]);
  else if (a === '--address' || a === '-a') opts.address = args[++i];
  else if (a === '--directory' || a === '-d') opts.directory = args[++i];
  else if (a === '--configure-bucket') opts.buckets.push({ name: args[++i], configs: [] });
  else if (a === "--verbose") opts.silent = false;
  else {
    console.error(`s3rver.js: unknown argument ${a}`);
    process.exit(2);
  }
}
if (!opts.directory) {
  console.error('s3rver.js: --directory is required');
  process.exit(2);
}
fs.ensureDirSync(opts.directory);
new S3rver({
  address: opts.address,
  port: opts.port,
  silent: opts.silent,
  directory: opts.directory,
  configureBuckets: opts.buckets,
})
  .run()
  .then(({ address, port }) => console.log(`s3rver listening on ${address}:${port}`))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
