//! The satisfaction index (Indeks Kepuasan Masyarakat) of PermenPAN-RB 14/2017.
//!
//! Each response is on the 1–4 scale. The regulation's index is the weighted mean of the
//! nine elements' mean scores (each element weighs 1/9), times 25. A response is either
//! the full form (nine answers) or a single digit; a single digit stands for the same
//! answer to all nine elements. Then every response answers every element, and the
//! regulation's formula equals the mean of the responses' own scores (the digit, or the
//! mean of the nine answers) times 25: each response counts once, whatever its form.
//!
//! The index is rounded to two decimals (half away from zero) and graded on the rounded
//! value: A 88.31–100, B 76.61–88.30, C 65.00–76.60, D 25.00–64.99.

use serde::Serialize;

/// The nine elements of the survey, in the order of the full form.
pub const ELEMENTS: usize = 9;

/// The grade of an index (mutu pelayanan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    /// The grade of an index in hundredths (8831 is 88.31).
    fn of_hundredths(index: i64) -> Grade {
        match index {
            8831.. => Grade::A,
            7661..=8830 => Grade::B,
            6500..=7660 => Grade::C,
            _ => Grade::D,
        }
    }

    /// The regulation's word for the grade.
    pub fn meaning(self) -> &'static str {
        match self {
            Grade::A => "Sangat Baik",
            Grade::B => "Baik",
            Grade::C => "Kurang Baik",
            Grade::D => "Tidak Baik",
        }
    }
}

/// A response's own score: a single digit, or the mean of the nine answers. `None` for
/// anything else (no answers, another number of answers, an answer outside 1–4).
pub fn response_score(answers: &[u8]) -> Option<f64> {
    if !(answers.len() == 1 || answers.len() == ELEMENTS) {
        return None;
    }
    if answers.iter().any(|a| !(1..=4).contains(a)) {
        return None;
    }
    let sum: u32 = answers.iter().map(|&a| u32::from(a)).sum();
    Some(f64::from(sum) / answers.len() as f64)
}

/// The index of a period: how many responses, the index and its grade (both `None`
/// without a response).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ikm {
    pub responses: u64,
    /// Mean score × 25, rounded to two decimals.
    pub score: Option<f64>,
    pub grade: Option<Grade>,
}

impl Ikm {
    /// The index of the responses' scores (each on the 1–4 scale, as
    /// [`response_score`] gives it). Scores outside 1–4 are left out.
    pub fn of(scores: impl IntoIterator<Item = f64>) -> Ikm {
        let (mut sum, mut responses) = (0.0_f64, 0_u64);
        for score in scores {
            if (1.0..=4.0).contains(&score) {
                sum += score;
                responses += 1;
            }
        }
        if responses == 0 {
            return Ikm {
                responses,
                score: None,
                grade: None,
            };
        }
        // In hundredths: mean × 25 × 100. The small bias keeps a value such as 88.305
        // that binary floating point holds as 88.30499… rounding up, as written.
        let hundredths = (sum * 2500.0 / responses as f64 + 1e-7).round() as i64;
        Ikm {
            responses,
            score: Some(hundredths as f64 / 100.0),
            grade: Some(Grade::of_hundredths(hundredths)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_scores_its_digit_or_the_mean_of_nine_answers() {
        assert_eq!(response_score(&[3]), Some(3.0));
        // 4+4+3+3+3+4+2+3+4 = 30; 30 / 9 = 3.333…
        let full = response_score(&[4, 4, 3, 3, 3, 4, 2, 3, 4]).expect("nine");
        assert!((full - 30.0 / 9.0).abs() < 1e-12, "{full}");
        assert_eq!(response_score(&[]), None);
        assert_eq!(response_score(&[3, 4]), None, "neither one nor nine");
        assert_eq!(response_score(&[5]), None, "outside the scale");
        assert_eq!(response_score(&[0, 4, 4, 4, 4, 4, 4, 4, 4]), None);
    }

    #[test]
    fn the_index_is_the_mean_score_times_25_graded() {
        // 4, 3, 4, 3: mean 3.5, index 87.50, grade B.
        let ikm = Ikm::of([4.0, 3.0, 4.0, 3.0]);
        assert_eq!(ikm.responses, 4);
        assert_eq!(ikm.score, Some(87.5));
        assert_eq!(ikm.grade, Some(Grade::B));
        // All 4: 100.00, A. All 1: 25.00, D.
        assert_eq!(Ikm::of([4.0; 3]).score, Some(100.0));
        assert_eq!(Ikm::of([4.0; 3]).grade, Some(Grade::A));
        assert_eq!(Ikm::of([1.0]).score, Some(25.0));
        assert_eq!(Ikm::of([1.0]).grade, Some(Grade::D));
    }

    #[test]
    fn a_full_form_and_a_digit_count_once_each() {
        // The form 4,4,3,3,3,4,2,3,4 (mean 30/9) and the digit 2: mean (30/9 + 2) / 2
        // = 48/18 = 2.6667; × 25 = 66.666… → 66.67, grade C.
        let form = response_score(&[4, 4, 3, 3, 3, 4, 2, 3, 4]).expect("form");
        let ikm = Ikm::of([form, 2.0]);
        assert_eq!(ikm.responses, 2);
        assert_eq!(ikm.score, Some(66.67));
        assert_eq!(ikm.grade, Some(Grade::C));
        // The same as the regulation's per-element formula with the digit standing for
        // all nine answers: element means (4+2)/2, (4+2)/2, (3+2)/2, … summed / 9 × 25.
        let elements = [4, 4, 3, 3, 3, 4, 2, 3, 4].map(|a| (f64::from(a) + 2.0) / 2.0);
        let regulation = elements.iter().sum::<f64>() / 9.0 * 25.0;
        assert_eq!((regulation * 100.0).round() / 100.0, 66.67);
    }

    #[test]
    fn grades_change_exactly_at_the_regulations_boundaries() {
        // Mean scores whose index lands on each boundary: index / 25.
        let graded = |index: f64| Ikm::of([index / 25.0]).grade;
        assert_eq!(graded(100.0), Some(Grade::A));
        assert_eq!(graded(88.31), Some(Grade::A));
        assert_eq!(graded(88.30), Some(Grade::B));
        assert_eq!(graded(76.61), Some(Grade::B));
        assert_eq!(graded(76.60), Some(Grade::C));
        assert_eq!(graded(65.00), Some(Grade::C));
        assert_eq!(graded(64.99), Some(Grade::D));
        assert_eq!(graded(25.00), Some(Grade::D));
        // Rounded first, then graded: 88.305 is 88.31, an A.
        assert_eq!(Ikm::of([88.305 / 25.0]).score, Some(88.31));
        assert_eq!(graded(88.305), Some(Grade::A));
        // Three responses 4, 4, 3: 11/3 × 25 = 91.666… → 91.67, A.
        assert_eq!(Ikm::of([4.0, 4.0, 3.0]).score, Some(91.67));
    }

    #[test]
    fn no_response_no_index_and_nonsense_is_left_out() {
        let none = Ikm::of([]);
        assert_eq!((none.responses, none.score, none.grade), (0, None, None));
        let ikm = Ikm::of([f64::NAN, 0.0, 4.5, 3.0]);
        assert_eq!(ikm.responses, 1);
        assert_eq!(ikm.score, Some(75.0));
        assert_eq!(Grade::C.meaning(), "Kurang Baik");
    }
}
