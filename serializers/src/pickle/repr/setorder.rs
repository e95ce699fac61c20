//! The order in which CPython 3.11 iterates a set built by `pickle.loads`.
//!
//! Unpickling adds the elements one at a time in stored order (`set(list)`,
//! `frozenset(list)`, `ADDITEMS`, `FROZENSET` all end in `set_add_entry`), so
//! replaying `Objects/setobject.c`'s open addressing — a table of 8 slots, up
//! to 9 linear probes then perturbed probing, growth to 4× `used` (2× above
//! 50 000) when the table is 3/5 full — yields the slots and so the order
//! `repr` prints. Equal elements (`1`, `1.0`, `True`) keep the first one.

use super::super::value::NodeId;
use super::classes::Class;
use super::shape::Ctx;

const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;

/// The elements in CPython's iteration order, duplicates dropped; `None`
/// when some element's hash is not determinable (str, bytes, None, objects).
pub(crate) fn cpython_order(cx: &Ctx<'_>, items: &[NodeId]) -> Option<Vec<NodeId>> {
    let mut classes = cx.classes.borrow_mut();
    let mut hashed = Vec::with_capacity(items.len());
    for &it in items {
        let c = classes.class(it);
        hashed.push((classes.hash(c)?, c, it));
    }
    let mut table = Table::new();
    for entry in hashed {
        table.add(entry);
    }
    Some(
        table
            .slots
            .into_iter()
            .flatten()
            .map(|(_, _, id)| id)
            .collect(),
    )
}

/// A slot: the element's hash, its equality class and its node.
type Entry = (i64, Class, NodeId);

struct Table {
    slots: Vec<Option<Entry>>,
    fill: usize,
}

impl Table {
    fn new() -> Table {
        Table {
            slots: vec![None; MIN_SIZE],
            fill: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// `set_add_entry`: an element equal to one already in (the same
    /// hash, then `==`, which the classes decide for every element that has
    /// a hash) is dropped.
    fn add(&mut self, entry: Entry) {
        let (h, class, _) = entry;
        let mask = self.mask();
        let mut perturb = h as u64;
        let mut i = (h as u64 as usize) & mask;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in i..=i + probes {
                match self.slots[j] {
                    None => {
                        self.slots[j] = Some(entry);
                        self.fill += 1;
                        if self.fill * 5 >= mask * 3 {
                            self.resize(if self.fill > 50_000 {
                                self.fill * 2
                            } else {
                                self.fill * 4
                            });
                        }
                        return;
                    }
                    Some((eh, ec, _)) if eh == h && ec == class => return,
                    Some(_) => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_table_resize`: the smallest power of two above `min_used`, entries
    /// re-inserted in old slot order with `set_insert_clean`.
    fn resize(&mut self, min_used: usize) {
        let mut size = MIN_SIZE;
        while size <= min_used {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        let mask = size - 1;
        for entry in old.into_iter().flatten() {
            let h = entry.0;
            let mut perturb = h as u64;
            let mut i = (h as u64 as usize) & mask;
            'probe: loop {
                let probes = if i + LINEAR_PROBES <= mask {
                    LINEAR_PROBES
                } else {
                    0
                };
                for j in i..=i + probes {
                    if self.slots[j].is_none() {
                        self.slots[j] = Some(entry);
                        break 'probe;
                    }
                }
                perturb >>= PERTURB_SHIFT;
                i = (i
                    .wrapping_mul(5)
                    .wrapping_add(1)
                    .wrapping_add(perturb as usize))
                    & mask;
            }
        }
    }
}
