//! Fixed-base scalar multiplication by the P-256 generator, for ES256 key generation.
//!
//! `p256`'s own `ProjectivePoint::mul_by_generator` (primeorder 0.14's `BasepointTable`) keeps
//! 33 tables of 8 *projective* multiples of 256^i·G and needs 65 complete additions, 4
//! doublings and a constant-time select of three field elements per entry. Here the table
//! holds *affine* points, one table of 8 multiples for each of the 65 signed radix-16
//! digits (j·16^i·G for j = 1..8), normalized once with a batch inversion:
//! every digit costs one complete mixed addition (Renes–Costello–Batina 2015, Algorithm 5, as
//! primeorder implements it) after a select of two field elements per entry, and there are no
//! doublings at all. The result is the same point.
//!
//! Constant time: the scalar is recoded into signed digits without branches or
//! secret-dependent indexing; each table is scanned whole with `subtle` selects; a negative
//! digit negates the selected point with a constant-time select; a zero digit selects the
//! affine identity, which the mixed addition absorbs with a constant-time conditional assign.

use std::sync::LazyLock;

use p256::elliptic_curve::group::{Curve as _, Group as _};
use p256::elliptic_curve::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use p256::elliptic_curve::PrimeField as _;
use p256::{AffinePoint, ProjectivePoint, Scalar};
use zeroize::Zeroize as _;

/// Bits per signed digit.
const WINDOW: usize = 4;
/// Multiples of each power held per table: |digit| ≤ 2^(WINDOW-1).
const ENTRIES: usize = 1 << (WINDOW - 1);
/// Signed digits of a scalar below 2^256: the 64 nibbles plus one for the last carry
/// (ceil(257 / WINDOW)).
const DIGITS: usize = 257usize.div_ceil(WINDOW);

/// `TABLE[i * ENTRIES + (j - 1)]` = j · 2^(WINDOW·i) · G, for i < DIGITS and 1 ≤ j ≤ ENTRIES.
static TABLE: LazyLock<Vec<AffinePoint>> = LazyLock::new(|| {
    let mut projective = Vec::with_capacity(DIGITS * ENTRIES);
    let mut base = ProjectivePoint::GENERATOR;
    for _ in 0..DIGITS {
        let mut multiple = base;
        for _ in 0..ENTRIES {
            projective.push(multiple);
            multiple += base;
        }
        for _ in 0..WINDOW {
            base = base.double();
        }
    }
    let mut affine = vec![AffinePoint::IDENTITY; projective.len()];
    ProjectivePoint::batch_normalize(&projective, &mut affine);
    affine
});

/// Signed radix-2^WINDOW digits of `scalar`, least significant first: `scalar = Σ d_i·2^(WINDOW·i)`,
/// every `d_i` in [-2^(WINDOW-1), 2^(WINDOW-1)) except the last, which is in [0, 2^(WINDOW-1)].
/// No branch and no index depends on the scalar's value (only on the digit position).
fn recode(scalar: &Scalar) -> [i8; DIGITS] {
    let mut bytes = scalar.to_repr(); // big-endian
    let mut limbs = [0u64; 5]; // little-endian, plus a zero limb for the last window's overrun
    for (i, limb) in limbs.iter_mut().take(4).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(word);
        word.zeroize();
    }
    bytes.zeroize();
    let mut wide = [0i16; DIGITS];
    for (i, d) in wide.iter_mut().enumerate() {
        let bit = WINDOW * i;
        let (limb, offset) = (bit / 64, bit % 64);
        let mut window = limbs[limb] >> offset;
        if offset + WINDOW > 64 {
            // The position (not the scalar) decides whether the window spans two limbs.
            window |= limbs[limb + 1] << (64 - offset);
        }
        *d = (window & ((1 << WINDOW) - 1)) as i16;
    }
    limbs.zeroize();
    // Re-center [0, 2^WINDOW] (a window plus the incoming carry) into
    // [-2^(WINDOW-1), 2^(WINDOW-1)), carrying 1 when the digit is 2^(WINDOW-1) or more:
    // carry = (d + 2^(WINDOW-1)) >> WINDOW, arithmetic only.
    for i in 0..DIGITS - 1 {
        let carry = (wide[i] + (1 << (WINDOW - 1))) >> WINDOW;
        wide[i] -= carry << WINDOW;
        wide[i + 1] += carry;
    }
    let mut digits = [0i8; DIGITS];
    for (d, w) in digits.iter_mut().zip(&wide) {
        *d = *w as i8;
    }
    wide.zeroize();
    digits
}

/// `digit · T[0]` where `T` holds the multiples 1..=ENTRIES of one power of G, in constant time:
/// every entry is read, `|digit|` picks one (none for 0: the identity), a negative digit negates.
fn select(table: &[AffinePoint], digit: i8) -> AffinePoint {
    // |digit| and its sign without a branch: mask = -1 for negative digits, else 0.
    let mask = digit >> 7;
    let abs = ((digit ^ mask).wrapping_sub(mask)) as u8;
    let mut point = AffinePoint::IDENTITY;
    for (j, entry) in (1u8..).zip(table) {
        point.conditional_assign(entry, abs.ct_eq(&j));
    }
    let negative = Choice::from((mask & 1) as u8);
    let negated = -point;
    point.conditional_assign(&negated, negative);
    point
}

/// `scalar · G` on P-256, equal to `ProjectivePoint::mul_by_generator(scalar)`, in constant time.
fn mul_by_generator(scalar: &Scalar) -> ProjectivePoint {
    let table: &[AffinePoint] = &TABLE;
    let mut digits = recode(scalar);
    let mut acc = ProjectivePoint::IDENTITY;
    for (i, digit) in digits.iter().enumerate() {
        let mut point = select(&table[i * ENTRIES..(i + 1) * ENTRIES], *digit);
        acc += &point;
        point.zeroize();
    }
    digits.zeroize();
    acc
}

/// `scalar · G` as an affine point (one inversion after [`mul_by_generator`]).
pub(crate) fn public_point(scalar: &Scalar) -> AffinePoint {
    mul_by_generator(scalar).to_affine()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    /// n, the group order, big-endian.
    const ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];

    fn scalar(be: [u8; 32]) -> Scalar {
        Option::from(Scalar::from_repr(be.into())).expect("below n")
    }

    fn check(s: &Scalar) {
        let want = ProjectivePoint::mul_by_generator(s).to_affine();
        assert_eq!(public_point(s), want, "scalar {:02x?}", s.to_repr());
    }

    #[test]
    fn the_digits_sum_back_to_the_scalar_and_stay_in_range() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(16);
        let mut cases = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE, -Scalar::from(8u64)];
        cases.extend((0..64).map(|_| *crate::crypto::keys::p256_scalar(&mut rng)));
        let radix = Scalar::from(1u64 << WINDOW);
        for s in cases {
            let digits = recode(&s);
            let half = 1i8 << (WINDOW - 1);
            assert!(digits[..DIGITS - 1]
                .iter()
                .all(|d| (-half..half).contains(d)));
            assert!((0..=half).contains(&digits[DIGITS - 1]));
            let back = digits.iter().rev().fold(Scalar::ZERO, |acc, d| {
                let magnitude = Scalar::from(u64::from(d.unsigned_abs()));
                acc * radix + if *d < 0 { -magnitude } else { magnitude }
            });
            assert_eq!(back, s);
        }
    }

    #[test]
    fn edge_scalars_give_the_same_point_as_p256() {
        check(&Scalar::ONE);
        check(&Scalar::from(2u64));
        check(&Scalar::from(8u64));
        check(&Scalar::from(9u64));
        check(&(-Scalar::ONE)); // n - 1
        check(&(-Scalar::from(2u64))); // n - 2
        check(&(-Scalar::from(8u64)));
        check(&Scalar::ZERO);
        let mut top = ORDER;
        top[31] -= 1;
        assert_eq!(scalar(top), -Scalar::ONE);
        for byte in [0x88u8, 0xff, 0xaa, 0x55, 0x80, 0x08, 0x78, 0x87, 0xf0, 0x0f] {
            // Every nibble 8 / 0xf / alternating; capped below n by a zero top byte when needed.
            let mut be = [byte; 32];
            if Option::<Scalar>::from(Scalar::from_repr(be.into())).is_none() {
                be[0] = 0x7f;
            }
            check(&scalar(be));
        }
        // All-0xf nibbles below n: n - 1 has long runs of f; 2^255 - 1 has all but the top.
        let mut below = [0xffu8; 32];
        below[0] = 0x7f;
        check(&scalar(below));
    }

    #[test]
    fn every_power_of_two_below_n_gives_the_same_point_as_p256() {
        let mut s = Scalar::ONE;
        for _ in 0..256 {
            // 2^k for k < 256 is below n for k ≤ 255 (n > 2^255).
            check(&s);
            s = s.double();
        }
    }

    #[test]
    fn seeded_random_scalars_give_the_same_point_as_p256() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x9256);
        let rounds = if cfg!(debug_assertions) { 200 } else { 3000 };
        for _ in 0..rounds {
            let s = *crate::crypto::keys::p256_scalar(&mut rng);
            check(&s);
        }
    }
}
