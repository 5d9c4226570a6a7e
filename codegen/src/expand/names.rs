//! The property-name matcher of the generated record decoder.
//!
//! A `match` on a `&str` with many arms compares the name with each arm in turn; at CDMS width
//! (200 properties, often of one length and one prefix, as `new_Field000` … `new_Field197`)
//! that is a `memcmp` per arm for every property of every record. The matcher generated here
//! first switches on the length, then on the byte that best tells the remaining names apart,
//! until at most [`LEAF`] names are left, which are compared whole: a few integer switches
//! and one comparison per property.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// How many names a leaf may compare whole.
const LEAF: usize = 2;

/// The decision tree of a set of names, each with its slot.
#[derive(Debug, PartialEq)]
pub enum Node<'a> {
    /// Compare the name with each of these.
    Leaf(Vec<(&'a str, usize)>),
    /// Switch on the name's length.
    Len(Vec<(usize, Node<'a>)>),
    /// Switch on the byte at `at` (every name here is longer than `at`).
    Byte {
        at: usize,
        arms: Vec<(u8, Node<'a>)>,
    },
}

impl<'a> Node<'a> {
    /// The tree of `names` (distinct; each with its slot).
    pub fn of(names: &[(&'a str, usize)]) -> Self {
        let arms = grouped(names.to_vec(), |name| name.len())
            .into_iter()
            .map(|(len, group)| (len, Node::bytes(group, len)))
            .collect();
        Node::Len(arms)
    }

    /// The tree of `names`, all `len` bytes long.
    fn bytes(names: Vec<(&'a str, usize)>, len: usize) -> Self {
        if names.len() <= LEAF {
            return Node::Leaf(names);
        }
        // The position whose byte splits the names into the most groups (the earliest of
        // equals); none splits them when they are equal, which distinct names never are.
        let best = (0..len)
            .map(|at| (at, distinct(&names, at)))
            .filter(|&(_, n)| n > 1)
            .max_by(|(a, n), (b, m)| n.cmp(m).then(b.cmp(a)));
        let Some((at, _)) = best else {
            return Node::Leaf(names);
        };
        Node::Byte {
            at,
            arms: grouped(names, |name| name.as_bytes()[at])
                .into_iter()
                .map(|(b, group)| (b, Node::bytes(group, len)))
                .collect(),
        }
    }

    /// The slot of `name` by walking the tree as the generated code does, or `None`.
    #[cfg(test)]
    pub fn find(&self, name: &str) -> Option<usize> {
        match self {
            Node::Leaf(names) => names.iter().find(|(n, _)| *n == name).map(|(_, s)| *s),
            Node::Len(arms) => arms
                .iter()
                .find(|(len, _)| *len == name.len())
                .and_then(|(_, node)| node.find(name)),
            Node::Byte { at, arms } => {
                let byte = name.as_bytes()[*at];
                arms.iter()
                    .find(|(b, _)| *b == byte)
                    .and_then(|(_, node)| node.find(name))
            }
        }
    }

    /// The expression of the tree over `name: &str` and `bytes: &[u8]` (its bytes), evaluating
    /// to the slot or `unmapped`.
    pub fn tokens(
        &self,
        name: &TokenStream,
        bytes: &TokenStream,
        unmapped: &TokenStream,
    ) -> TokenStream {
        match self {
            Node::Leaf(names) => {
                let arms = names.iter().map(|(n, slot)| {
                    let slot = Literal::usize_unsuffixed(*slot);
                    quote!(#n => #slot,)
                });
                quote! {
                    match #name {
                        #(#arms)*
                        _ => #unmapped,
                    }
                }
            }
            Node::Len(arms) => {
                let arms = arms.iter().map(|(len, node)| {
                    let len = Literal::usize_unsuffixed(*len);
                    let node = node.tokens(name, bytes, unmapped);
                    quote!(#len => #node,)
                });
                quote! {
                    match #bytes.len() {
                        #(#arms)*
                        _ => #unmapped,
                    }
                }
            }
            Node::Byte { at, arms } => {
                let at = Literal::usize_unsuffixed(*at);
                let arms = arms.iter().map(|(byte, node)| {
                    let byte = Literal::byte_character(*byte);
                    let node = node.tokens(name, bytes, unmapped);
                    quote!(#byte => #node,)
                });
                quote! {
                    match #bytes[#at] {
                        #(#arms)*
                        _ => #unmapped,
                    }
                }
            }
        }
    }
}

/// `names` grouped by `key`, in key order (each group in the names' order).
fn grouped<'a, K: Ord + Copy>(
    names: Vec<(&'a str, usize)>,
    key: impl Fn(&str) -> K,
) -> Vec<(K, Vec<(&'a str, usize)>)> {
    let mut groups: Vec<(K, Vec<(&'a str, usize)>)> = Vec::new();
    for (name, slot) in names {
        let k = key(name);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, group)) => group.push((name, slot)),
            None => groups.push((k, vec![(name, slot)])),
        }
    }
    groups.sort_by_key(|(k, _)| *k);
    groups
}

/// How many different bytes the names have at `at`.
fn distinct(names: &[(&str, usize)], at: usize) -> usize {
    let mut seen = [false; 256];
    names
        .iter()
        .filter(|(n, _)| !std::mem::replace(&mut seen[usize::from(n.as_bytes()[at])], true))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &[&str]) -> Node<'static> {
        let names: Vec<(&'static str, usize)> = names
            .iter()
            .map(|n| &*Box::leak(n.to_string().into_boxed_str()))
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        let tree = Node::of(&names);
        for (name, slot) in &names {
            assert_eq!(tree.find(name), Some(*slot), "{name}");
        }
        tree
    }

    #[test]
    fn every_name_is_found_and_others_are_not() {
        let wide: Vec<String> = (0..198).map(|i| format!("new_Field{i:03}")).collect();
        let names: Vec<&str> = wide.iter().map(String::as_str).collect();
        let tree = check(&names);
        for other in [
            "new_Field198",
            "new_Field999",
            "new_field000",
            "new_Field00",
            "",
            "x",
        ] {
            assert_eq!(tree.find(other), None, "{other}");
        }
    }

    #[test]
    fn names_of_one_length_switch_on_the_byte_that_splits_them() {
        let tree = check(&[
            "AccountId",
            "ModifiedOn",
            "CreatedOn",
            "Telephone1",
            "Telephone2",
        ]);
        let Node::Len(lens) = &tree else {
            panic!("{tree:?}")
        };
        let lens: Vec<usize> = lens.iter().map(|(len, _)| *len).collect();
        assert_eq!(lens, [9, 10]);
        assert_eq!(tree.find("Telephone3"), None);
        assert_eq!(tree.find("AccountIX"), None);
    }

    #[test]
    fn few_names_are_compared_whole() {
        let tree = check(&["Name", "Code"]);
        assert_eq!(
            tree,
            Node::Len(vec![(4, Node::Leaf(vec![("Name", 0), ("Code", 1)]))])
        );
    }

    #[test]
    fn names_that_share_every_split_byte_end_in_a_leaf() {
        // Names of one length whose every byte is shared by several of them still resolve.
        check(&["ab", "ba", "aa", "bb", "ac", "ca"]);
        check(&[]);
    }
}
