//! Records sorted by a whole-number field (`created_at`), so that a search bounded on it
//! tests only the records inside its bounds ([`super::search::Query::int_range`]): a
//! partitioned read sends hundreds of windows, each of which would otherwise test every
//! record. Pure: built from the values a route's [`super::search::Searchable`] record gives.

use super::search::IntRange;

/// Record indexes sorted by their field's value.
pub(crate) struct RangeIndex {
    /// `(value, record)`, ascending.
    sorted: Vec<(i64, u32)>,
    /// Records whose field is unset or not a whole number: never in a bounded range, but
    /// always handed on so that the query decides.
    unkeyed: Vec<u32>,
}

impl RangeIndex {
    /// The index of records `0..len`, whose field `value` gives.
    pub(crate) fn build(len: usize, value: impl Fn(usize) -> Option<i64>) -> Self {
        let mut sorted = Vec::with_capacity(len);
        let mut unkeyed = Vec::new();
        for i in 0..len {
            match value(i) {
                Some(v) => sorted.push((v, i as u32)),
                None => unkeyed.push(i as u32),
            }
        }
        sorted.sort_unstable();
        Self { sorted, unkeyed }
    }

    /// The records that may lie in `range`, in record order (the order a search answers in):
    /// every record when the range is open at both ends.
    pub(crate) fn candidates(&self, range: IntRange) -> Vec<u32> {
        if range == (None, None) {
            return (0..(self.sorted.len() + self.unkeyed.len()) as u32).collect();
        }
        self.records(range, &self.unkeyed)
    }

    /// The records whose value lies in `range`, in record order: those a query matches when
    /// `range` is its exact range (`Query::exact_int_range`), no unkeyed one among them.
    pub(crate) fn within(&self, range: IntRange) -> Vec<u32> {
        self.records(range, &[])
    }

    /// The records whose value lies in `(lo, hi)`, and `others`, in record order.
    fn records(&self, (lo, hi): IntRange, others: &[u32]) -> Vec<u32> {
        let start = lo.map_or(0, |lo| self.sorted.partition_point(|(v, _)| *v < lo));
        let end = hi.map_or(self.sorted.len(), |hi| {
            self.sorted.partition_point(|(v, _)| *v < hi)
        });
        let mut records: Vec<u32> = self.sorted[start..end.max(start)]
            .iter()
            .map(|(_, i)| *i)
            .chain(others.iter().copied())
            .collect();
        records.sort_unstable();
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_records_in_range_in_record_order() {
        let values = [Some(30), None, Some(10), Some(20), Some(10), Some(40)];
        let index = RangeIndex::build(values.len(), |i| values[i]);
        assert_eq!(index.candidates((None, None)), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(index.candidates((Some(10), Some(30))), vec![1, 2, 3, 4]);
        assert_eq!(index.candidates((Some(11), None)), vec![0, 1, 3, 5]);
        assert_eq!(index.candidates((None, Some(10))), vec![1]);
        assert_eq!(index.candidates((Some(50), Some(20))), vec![1]);
        assert_eq!(index.within((None, None)), vec![0, 2, 3, 4, 5]);
        assert_eq!(index.within((Some(10), Some(30))), vec![2, 3, 4]);
        assert_eq!(index.within((Some(50), Some(20))), Vec::<u32>::new());
    }
}
