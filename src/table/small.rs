//! `Small`: a list that keeps its first few items inline.
//!
//! The key extractor returns a command's keys and, for encoded input, first
//! records where each argument lies. Almost every command has one to three
//! keys and fewer than eight arguments, so both lists start inline and only
//! spill to the heap past that: finding the key of a GET or SET allocates
//! nothing. Safe code only, hence `T: Copy + Default` for the spare slots.

/// A list of `Copy` items, inline up to `N`, on the heap beyond.
#[derive(Clone, Debug)]
pub(crate) enum Small<T: Copy + Default, const N: usize> {
    /// The first `len` slots of `items` are in use.
    Inline { len: usize, items: [T; N] },
    /// Spilled: more than `N` items were pushed.
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> Default for Small<T, N> {
    fn default() -> Self {
        Small::Inline {
            len: 0,
            items: [T::default(); N],
        }
    }
}

impl<T: Copy + Default, const N: usize> Small<T, N> {
    /// Appends an item, moving everything to the heap when the inline slots are full.
    pub(crate) fn push(&mut self, item: T) {
        match self {
            Small::Inline { len, items } => {
                if let Some(slot) = items.get_mut(*len) {
                    *slot = item;
                    *len += 1;
                } else {
                    let mut spilled = Vec::with_capacity(N * 2);
                    spilled.extend_from_slice(items);
                    spilled.push(item);
                    *self = Small::Heap(spilled);
                }
            }
            Small::Heap(items) => items.push(item),
        }
    }

    /// The items in push order.
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Small::Inline { len, items } => items.get(..*len).unwrap_or_default(),
            Small::Heap(items) => items,
        }
    }

    /// True once the list has left its inline slots.
    #[cfg(test)]
    pub(crate) fn is_spilled(&self) -> bool {
        matches!(self, Small::Heap(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inline_up_to_n_then_spills_in_order() {
        let mut list: Small<u32, 2> = Small::default();
        list.push(1);
        list.push(2);
        assert!(!list.is_spilled());
        assert_eq!(list.as_slice(), &[1, 2]);
        list.push(3);
        assert!(list.is_spilled());
        assert_eq!(list.as_slice(), &[1, 2, 3]);
    }
}
