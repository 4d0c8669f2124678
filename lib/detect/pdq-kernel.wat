;; The hot loop of PDQ near-matching (lib/detect/pdq-index.ts, `PdqIndex.nearPairs`) in WebAssembly,
;; for its native 64-bit bit count: 256-bit distances of hundreds of millions of candidate pairs.
;; Compiled to lib/detect/pdq-kernel-wasm.ts by `npm run build:wasm` (wabt); a test checks that the
;; compiled module there is this source's.
;;
;; Memory, laid out by the caller: the hashes by id (32 bytes each), the ids of one chunk position in
;; bucket order (i32), the hashes in that order, the bucket starts (`buckets + 1` i32), the non-empty
;; buckets in order (i32), and an output area of `cap` triples (i32 x, i32 y, i32 distance).
(module
  (memory (export "memory") 1)
  ;; Where `scan` stopped: the place in the list of non-empty buckets and the row to go on from (row -1:
  ;; the bucket's first row). `resumeAt` is the list's length once the scan is complete.
  (global $resumeAt (export "resumeAt") (mut i32) (i32.const 0))
  (global $resumeRow (export "resumeRow") (mut i32) (i32.const -1))

  ;; Copies the `count` hashes whose ids are at `ids` from `hashes` to `ordered`, in that order.
  (func (export "gather") (param $hashes i32) (param $ids i32) (param $count i32) (param $ordered i32)
    (local $from i32) (local $end i32)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (local.set $from (i32.add (local.get $hashes) (i32.shl (i32.load (local.get $ids)) (i32.const 5))))
        (i64.store (local.get $ordered) (i64.load (local.get $from)))
        (i64.store offset=8 (local.get $ordered) (i64.load offset=8 (local.get $from)))
        (i64.store offset=16 (local.get $ordered) (i64.load offset=16 (local.get $from)))
        (i64.store offset=24 (local.get $ordered) (i64.load offset=24 (local.get $from)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (local.set $ordered (i32.add (local.get $ordered) (i32.const 32)))
        (br $next))))

  ;; Writes every pair (x, y, distance) with x in bucket b, y in bucket b ^ mask (b ^ mask >= b; y > x
  ;; when mask is 0) and distance <= max, for the non-empty buckets b listed at `nonEmpty` from place
  ;; `at` (from row `row` of that bucket, -1 for its first). x and y are positions in bucket order.
  ;; Stops before a row whose candidates might not all fit the output (the caller gives room for at
  ;; least as many triples as there are hashes, so a row always fits an empty output); answers how many
  ;; triples it wrote.
  (func (export "scan")
    (param $ordered i32) (param $starts i32) (param $nonEmpty i32) (param $nonEmptyCount i32) (param $mask i32) (param $max i32)
    (param $out i32) (param $cap i32) (param $at i32) (param $row i32)
    (result i32)
    (local $bucket i32) (local $other i32) (local $end i32) (local $otherFirst i32) (local $otherEnd i32)
    (local $x i32) (local $y i32) (local $xp i32) (local $yp i32) (local $slot i32)
    (local $a0 i64) (local $a1 i64) (local $a2 i64) (local $a3 i64) (local $distance i32) (local $count i32)
    (block $complete
      (loop $nextBucket
        (br_if $complete (i32.ge_u (local.get $at) (local.get $nonEmptyCount)))
        (local.set $bucket (i32.load (i32.add (local.get $nonEmpty) (i32.shl (local.get $at) (i32.const 2)))))
        (local.set $other (i32.xor (local.get $bucket) (local.get $mask)))
        (if (i32.ge_u (local.get $other) (local.get $bucket))
          (then
            (local.set $x (i32.load (i32.add (local.get $starts) (i32.shl (local.get $bucket) (i32.const 2)))))
            (local.set $end (i32.load (i32.add (local.get $starts) (i32.shl (i32.add (local.get $bucket) (i32.const 1)) (i32.const 2)))))
            (local.set $otherFirst (i32.load (i32.add (local.get $starts) (i32.shl (local.get $other) (i32.const 2)))))
            (local.set $otherEnd (i32.load (i32.add (local.get $starts) (i32.shl (i32.add (local.get $other) (i32.const 1)) (i32.const 2)))))
            (if (i32.ge_s (local.get $row) (i32.const 0)) (then (local.set $x (local.get $row))))
            (if (i32.lt_u (local.get $otherFirst) (local.get $otherEnd))
              (then
                (block $rowsDone
                  (loop $nextRow
                    (br_if $rowsDone (i32.ge_u (local.get $x) (local.get $end)))
                    (local.set $y
                      (if (result i32) (i32.eqz (local.get $mask))
                        (then (i32.add (local.get $x) (i32.const 1)))
                        (else (local.get $otherFirst))))
                    ;; No room for this row's candidates: say where to go on.
                    (if (i32.gt_u (i32.add (local.get $count) (i32.sub (local.get $otherEnd) (local.get $y))) (local.get $cap))
                      (then
                        (global.set $resumeAt (local.get $at))
                        (global.set $resumeRow (local.get $x))
                        (return (local.get $count))))
                    (local.set $xp (i32.add (local.get $ordered) (i32.shl (local.get $x) (i32.const 5))))
                    (local.set $a0 (i64.load (local.get $xp)))
                    (local.set $a1 (i64.load offset=8 (local.get $xp)))
                    (local.set $a2 (i64.load offset=16 (local.get $xp)))
                    (local.set $a3 (i64.load offset=24 (local.get $xp)))
                    (local.set $yp (i32.add (local.get $ordered) (i32.shl (local.get $y) (i32.const 5))))
                    (block $columnsDone
                      (loop $nextColumn
                        (br_if $columnsDone (i32.ge_u (local.get $y) (local.get $otherEnd)))
                        ;; Unrelated hashes differ in about 64 of the first 128 bits: nearly all stop here.
                        (local.set $distance
                          (i32.wrap_i64
                            (i64.add
                              (i64.popcnt (i64.xor (local.get $a0) (i64.load (local.get $yp))))
                              (i64.popcnt (i64.xor (local.get $a1) (i64.load offset=8 (local.get $yp)))))))
                        (if (i32.le_u (local.get $distance) (local.get $max))
                          (then
                            (local.set $distance
                              (i32.add (local.get $distance)
                                (i32.wrap_i64
                                  (i64.add
                                    (i64.popcnt (i64.xor (local.get $a2) (i64.load offset=16 (local.get $yp))))
                                    (i64.popcnt (i64.xor (local.get $a3) (i64.load offset=24 (local.get $yp))))))))
                            (if (i32.le_u (local.get $distance) (local.get $max))
                              (then
                                (local.set $slot (i32.add (local.get $out) (i32.mul (local.get $count) (i32.const 12))))
                                (i32.store (local.get $slot) (local.get $x))
                                (i32.store offset=4 (local.get $slot) (local.get $y))
                                (i32.store offset=8 (local.get $slot) (local.get $distance))
                                (local.set $count (i32.add (local.get $count) (i32.const 1)))))))
                        (local.set $y (i32.add (local.get $y) (i32.const 1)))
                        (local.set $yp (i32.add (local.get $yp) (i32.const 32)))
                        (br $nextColumn)))
                    (local.set $x (i32.add (local.get $x) (i32.const 1)))
                    (br $nextRow)))))))
        (local.set $row (i32.const -1))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $nextBucket)))
    (global.set $resumeAt (local.get $nonEmptyCount))
    (global.set $resumeRow (i32.const -1))
    (local.get $count))
)
