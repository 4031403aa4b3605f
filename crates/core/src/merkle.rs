//! The Merkle tree hash of RFC 9162 §2.1 (Certificate Transparency v2, unchanged from
//! RFC 6962 §2.1) over SHA-256, with inclusion proofs: what a signed manifest
//! ([`crate::manifest`]) uses to cover every post of a blog with one 32-byte root, so that one
//! post can be checked against the signature with about log2(posts) hashes.
//!
//! - A leaf's hash is `SHA-256(0x00 || leaf bytes)`, an inner node's `SHA-256(0x01 || left ||
//!   right)`: the prefixes keep a leaf from passing for a node (second preimages).
//! - The tree over n > 1 leaves splits at k, the largest power of two below n; the empty tree's
//!   hash is `SHA-256("")`.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: 32 bytes.
pub type Hash = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// The hash of one leaf: `SHA-256(0x00 || bytes)` (RFC 9162 §2.1.1).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash over the leaf hashes `leaves`, in order (RFC 9162 §2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha256(b""),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof (audit path) of leaf `index` among `leaves`: the sibling hashes from
/// the leaf up to the root, at most about log2(n) of them (RFC 9162 §2.1.3.1). Empty when
/// `index` is out of range or the tree has one leaf.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let n = leaves.len();
    if index >= n || n < 2 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut p = inclusion_proof(&leaves[..k], index);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion_proof(&leaves[k..], index - k);
        p.push(root(&leaves[..k]));
        p
    }
}

/// The root over `leaves` and the inclusion proofs of several leaves at once: for each of
/// `indices` (in the order given), its audit path as [`inclusion_proof`] gives it (empty when
/// out of range). One pass over the tree, O(n + k·log2 n) hashes for k indices, where asking
/// [`inclusion_proof`] k times costs O(k·n).
pub fn inclusion_proofs(leaves: &[Hash], indices: &[usize]) -> (Hash, Vec<Vec<Hash>>) {
    let mut proofs = vec![Vec::new(); indices.len()];
    let mut wanted: Vec<(usize, usize)> = indices.iter().enumerate().filter(|(_, i)| **i < leaves.len()).map(|(slot, i)| (*i, slot)).collect();
    wanted.sort_unstable();
    let root = proofs_walk(leaves, 0, &wanted, &mut proofs);
    (root, proofs)
}

/// The hash of the subtree `leaves` (starting at leaf `offset`), pushing onto each wanted
/// leaf's proof the siblings met on the way up. `wanted` is sorted by index.
fn proofs_walk(leaves: &[Hash], offset: usize, wanted: &[(usize, usize)], proofs: &mut [Vec<Hash>]) -> Hash {
    if leaves.len() < 2 || wanted.is_empty() {
        return root(leaves);
    }
    let k = split(leaves.len());
    let cut = wanted.partition_point(|(i, _)| *i < offset + k);
    let left = proofs_walk(&leaves[..k], offset, &wanted[..cut], proofs);
    let right = proofs_walk(&leaves[k..], offset + k, &wanted[cut..], proofs);
    for (_, slot) in &wanted[..cut] {
        proofs[*slot].push(right);
    }
    for (_, slot) in &wanted[cut..] {
        proofs[*slot].push(left);
    }
    node_hash(&left, &right)
}

/// Whether `proof` shows that the leaf with hash `leaf` sits at `index` in a tree of `size`
/// leaves whose hash is `root` (the verification algorithm of RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: usize, size: usize, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &r == root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_at_once_are_the_proofs_one_by_one() {
        for n in 0..40usize {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let indices: Vec<usize> = (0..n + 2).rev().collect();
            let (r, proofs) = inclusion_proofs(&leaves, &indices);
            assert_eq!(r, root(&leaves), "{n} leaves");
            for (slot, i) in indices.iter().enumerate() {
                assert_eq!(proofs[slot], inclusion_proof(&leaves, *i), "leaf {i} of {n}");
                if *i < n {
                    assert!(verify_inclusion(&leaves[*i], *i, n, &proofs[slot], &r));
                }
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
    }

    #[test]
    fn known_values_of_rfc_6962_trees() {
        // The empty tree is SHA-256 of nothing; one leaf is its leaf hash; the hash of the
        // empty leaf is a value Certificate Transparency's test data lists.
        assert_eq!(hex::encode(root(&[])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex::encode(leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        let l = leaves(3);
        assert_eq!(root(&l[..1]), l[0]);
        // Three leaves: ((0,1),2).
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        // The trees over the first 1 to 8 test leaves of Certificate Transparency's reference
        // implementation (merkle_tree_test.cc) and the roots it lists for them.
        let inputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
        let l: Vec<Hash> = inputs.iter().map(|s| leaf_hash(&hex::decode(s).unwrap())).collect();
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (n, want) in roots.iter().enumerate() {
            assert_eq!(hex::encode(root(&l[..=n])), *want, "the tree of the first {} leaves", n + 1);
        }
    }

    #[test]
    fn every_leaf_proves_its_place_and_nothing_else_does() {
        for n in 1..=33 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let p = inclusion_proof(&l, i);
                assert!(p.len() <= 6, "{n} leaves: a proof of {} hashes", p.len());
                assert!(verify_inclusion(&l[i], i, n, &p, &r), "leaf {i} of {n}");
                // Another leaf, another place, a changed proof: all refused. (The size is not
                // checked by the path alone: it is signed beside the root.)
                assert!(!verify_inclusion(&leaf_hash(b"other"), i, n, &p, &r));
                assert!(!verify_inclusion(&l[i], i + 1, n, &p, &r) || n == 1);
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = leaf_hash(first);
                    assert!(!verify_inclusion(&l[i], i, n, &bad, &r));
                    assert!(!verify_inclusion(&l[i], i, n, &p[1..], &r));
                }
                let mut long = p.clone();
                long.push(r);
                assert!(!verify_inclusion(&l[i], i, n, &long, &r));
            }
            assert!(!verify_inclusion(&l[0], n, n, &[], &r));
        }
    }
}
