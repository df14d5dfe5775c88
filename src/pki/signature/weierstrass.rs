//! ECDSA verification (SEC 1 v2 §4.1.4) on any short-Weierstrass curve y² = x³ + ax + b over a
//! prime field, from its domain parameters, the way OpenSSL's generic `EC_GROUP` code verifies
//! on curves without a specialised implementation: one implementation for every prime curve
//! OpenSSL names (secp*, prime*v*, brainpool*, wap-wsg*) and for explicit parameters, instead
//! of a crate per curve (ten of those cost 400 KB of a 5 MiB binary budget and still covered a
//! fraction of OpenSSL's list). Field and scalar arithmetic is crypto-bigint's Montgomery form;
//! everything here handles public data only, so variable time is fine.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd};

/// A named curve's domain parameters as big-endian hex (generated into `curves.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PrimeCurve {
    pub p: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    pub x: &'static str,
    pub y: &'static str,
    pub n: &'static str,
}

/// OPENSSL_ECC_MAX_FIELD_BITS (ec.h): larger fields are refused when decoding parameters.
const MAX_FIELD_BITS: u32 = 661;

type Element = BoxedMontyForm;

/// A curve ready for arithmetic.
#[derive(Debug, Clone)]
pub(super) struct Domain {
    field: BoxedMontyParams,
    prime: BoxedUint,
    field_bytes: usize,
    a: Element,
    b: Element,
    generator: Affine,
    order: BoxedUint,
    order_field: BoxedMontyParams,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Affine {
    x: Element,
    y: Element,
}

/// Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity.
#[derive(Debug, Clone)]
struct Jacobian {
    x: Element,
    y: Element,
    z: Element,
}

pub(super) fn hex_bytes(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter_map(|digit| {
            char::from(digit)
                .to_digit(16)
                .and_then(|value| u8::try_from(value).ok())
        })
        .collect();
    let padded: Vec<u8> = if digits.len() % 2 == 1 {
        std::iter::once(0).chain(digits).collect()
    } else {
        digits
    };
    padded
        .chunks(2)
        .map(|pair| (pair[0] << 4) | pair[1])
        .collect()
}

fn strip(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// An unsigned big-endian value at `precision` bits; `None` if it does not fit.
fn integer(bytes: &[u8], precision: u32) -> Option<BoxedUint> {
    BoxedUint::from_be_slice(strip(bytes), precision).ok()
}

impl Domain {
    /// [`Domain::named`], built once per curve and process: every ECDSA key on a named curve
    /// needs its domain (a handshake's key, each CA's), and building one parses the hex and
    /// sets up Montgomery parameters with divisions, which cost more than the copy.
    pub fn named_shared(curve: &PrimeCurve) -> Option<Domain> {
        static BUILT: LazyLock<Mutex<HashMap<PrimeCurve, Option<Domain>>>> =
            LazyLock::new(Mutex::default);
        let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
        built
            .entry(*curve)
            .or_insert_with(|| Domain::named(curve))
            .clone()
    }

    pub fn named(curve: &PrimeCurve) -> Option<Domain> {
        let mut base = vec![0x04];
        let field_bytes = strip(&hex_bytes(curve.p)).len();
        for coordinate in [curve.x, curve.y] {
            let bytes = hex_bytes(coordinate);
            let bytes = strip(&bytes);
            base.extend(std::iter::repeat_n(
                0,
                field_bytes.checked_sub(bytes.len())?,
            ));
            base.extend_from_slice(bytes);
        }
        Domain::new(
            &hex_bytes(curve.p),
            &hex_bytes(curve.a),
            &hex_bytes(curve.b),
            &base,
            &hex_bytes(curve.n),
        )
    }

    /// A curve from its parameters, with the checks `EC_GROUP_new_from_ecparameters` makes:
    /// an odd prime field of at most 661 bits, a and b reduced, the generator on the curve, a
    /// non-zero order of at most one bit more than the field (Hasse).
    pub fn new(p: &[u8], a: &[u8], b: &[u8], base: &[u8], n: &[u8]) -> Option<Domain> {
        let prime = BoxedUint::from_be_slice_vartime(strip(p));
        let field_bits = prime.bit_width_vartime();
        if !(3..=MAX_FIELD_BITS).contains(&field_bits) {
            return None;
        }
        let precision = prime.bits_precision();
        let field = BoxedMontyParams::new_vartime(Odd::new(prime.clone()).into_option()?);
        let reduced = |bytes: &[u8]| -> Option<Element> {
            let value = integer(bytes, precision)?;
            (value < prime).then(|| Element::new(value, &field))
        };
        let a = reduced(a)?;
        let b = reduced(b)?;
        let order = BoxedUint::from_be_slice_vartime(strip(n));
        let order_bits = order.bit_width_vartime();
        if order_bits == 0 || order_bits > field_bits + 1 {
            return None;
        }
        let order_field = BoxedMontyParams::new_vartime(Odd::new(order.clone()).into_option()?);
        let mut domain = Domain {
            field_bytes: usize::try_from(field_bits.div_ceil(8)).ok()?,
            generator: Affine {
                x: a.clone(),
                y: a.clone(),
            },
            field,
            prime,
            a,
            b,
            order,
            order_field,
        };
        domain.generator = domain.decode_point(base)?;
        Some(domain)
    }

    pub fn order_bits(&self) -> u32 {
        self.order.bit_width_vartime()
    }

    fn element(&self, value: BoxedUint) -> Element {
        Element::new(value, &self.field)
    }

    fn zero(&self) -> Element {
        Element::zero(&self.field)
    }

    fn one(&self) -> Element {
        Element::one(&self.field)
    }

    /// x³ + ax + b.
    fn right_side(&self, x: &Element) -> Element {
        &(&(&x.square() * x) + &(&self.a * x)) + &self.b
    }

    /// EC_POINT_oct2point for the compressed (02/03) and uncompressed (04) forms: coordinates
    /// below p, the point on the curve.
    pub fn decode_point(&self, encoded: &[u8]) -> Option<Affine> {
        let precision = self.prime.bits_precision();
        let (&form, coordinates) = encoded.split_first()?;
        let coordinate = |bytes: &[u8]| -> Option<Element> {
            let value = integer(bytes, precision)?;
            (value < self.prime).then(|| self.element(value))
        };
        match form {
            0x04 if coordinates.len() == 2 * self.field_bytes => {
                let (x, y) = coordinates.split_at(self.field_bytes);
                let point = Affine {
                    x: coordinate(x)?,
                    y: coordinate(y)?,
                };
                (point.y.square() == self.right_side(&point.x)).then_some(point)
            }
            0x02 | 0x03 if coordinates.len() == self.field_bytes => {
                let x = coordinate(coordinates)?;
                let mut y = self.square_root(&self.right_side(&x))?;
                let odd = y.retrieve().bit_vartime(0);
                if odd != (form == 0x03) {
                    if y == self.zero() {
                        return None;
                    }
                    y = -&y;
                }
                Some(Affine { x, y })
            }
            _ => None,
        }
    }

    /// A square root modulo the field prime: z^((p+1)/4) when p ≡ 3 (mod 4), else
    /// Tonelli-Shanks. `None` when z is not a square.
    fn square_root(&self, z: &Element) -> Option<Element> {
        if *z == self.zero() {
            return Some(self.zero());
        }
        let one = BoxedUint::one_with_precision(self.prime.bits_precision());
        let p_minus_one = self.prime.wrapping_sub(&one);
        let candidate = if self.prime.bit_vartime(1) {
            let exponent = self.prime.wrapping_add(&one).shr_vartime(2)?;
            z.pow(&exponent)
        } else {
            let twos = p_minus_one.trailing_zeros();
            let odd_part = p_minus_one.shr_vartime(twos)?;
            // A quadratic non-residue: the first c with c^((p-1)/2) = -1.
            let half = p_minus_one.shr_vartime(1)?;
            let minus_one = -&self.one();
            let mut c = BoxedUint::from_be_slice(&[2], self.prime.bits_precision()).ok()?;
            let non_residue = loop {
                let candidate = self.element(c.clone());
                if candidate.pow(&half) == minus_one {
                    break candidate;
                }
                c = c.wrapping_add(&one);
                if c >= self.prime {
                    return None;
                }
            };
            let mut m = twos;
            let mut c = non_residue.pow(&odd_part);
            let mut t = z.pow(&odd_part);
            let mut r = z.pow(&odd_part.wrapping_add(&one).shr_vartime(1)?);
            while t != self.one() {
                let mut i = 0;
                let mut t_power = t.clone();
                while t_power != self.one() {
                    t_power = t_power.square();
                    i += 1;
                    if i == m {
                        return None;
                    }
                }
                let mut b = c.clone();
                for _ in 0..(m - i - 1) {
                    b = b.square();
                }
                m = i;
                c = b.square();
                t = &t * &c;
                r = &r * &b;
            }
            r
        };
        (candidate.square() == *z).then_some(candidate)
    }

    fn infinity(&self) -> Jacobian {
        Jacobian {
            x: self.one(),
            y: self.one(),
            z: self.zero(),
        }
    }

    fn lift(&self, point: &Affine) -> Jacobian {
        Jacobian {
            x: point.x.clone(),
            y: point.y.clone(),
            z: self.one(),
        }
    }

    /// Doubling for any a ("dbl-2007-bl", Explicit-Formulas Database).
    fn double(&self, point: &Jacobian) -> Jacobian {
        if point.z == self.zero() || point.y == self.zero() {
            return self.infinity();
        }
        let xx = point.x.square();
        let yy = point.y.square();
        let yyyy = yy.square();
        let zz = point.z.square();
        let s = {
            let t = &(&(&point.x + &yy).square() - &xx) - &yyyy;
            &t + &t
        };
        let m = &(&(&xx + &xx) + &xx) + &(&self.a * &zz.square());
        let x = &m.square() - &(&s + &s);
        let eight_yyyy = {
            let two = &yyyy + &yyyy;
            let four = &two + &two;
            &four + &four
        };
        let y = &(&m * &(&s - &x)) - &eight_yyyy;
        let z = &(&(&point.y + &point.z).square() - &yy) - &zz;
        Jacobian { x, y, z }
    }

    /// Addition ("add-2007-bl"), with the equal and opposite cases.
    fn add(&self, first: &Jacobian, second: &Jacobian) -> Jacobian {
        if first.z == self.zero() {
            return second.clone();
        }
        if second.z == self.zero() {
            return first.clone();
        }
        let z1z1 = first.z.square();
        let z2z2 = second.z.square();
        let u1 = &first.x * &z2z2;
        let u2 = &second.x * &z1z1;
        let s1 = &(&first.y * &second.z) * &z2z2;
        let s2 = &(&second.y * &first.z) * &z1z1;
        if u1 == u2 {
            return if s1 == s2 {
                self.double(first)
            } else {
                self.infinity()
            };
        }
        let h = &u2 - &u1;
        let i = (&h + &h).square();
        let j = &h * &i;
        let r = {
            let difference = &s2 - &s1;
            &difference + &difference
        };
        let v = &u1 * &i;
        let x = &(&r.square() - &j) - &(&v + &v);
        let s1j = &s1 * &j;
        let y = &(&r * &(&v - &x)) - &(&s1j + &s1j);
        let z = &(&(&first.z + &second.z).square() - &z1z1) - &z2z2;
        let z = &z * &h;
        Jacobian { x, y, z }
    }

    /// ossl_ecdsa_simple_verify_sig: r and s in [1, n-1]; e the digest's leftmost order-bits;
    /// X = (e/s)G + (r/s)Q not infinity; X.x mod n = r.
    pub fn verify(&self, public: &Affine, digest: &[u8], r: &[u8], s: &[u8]) -> bool {
        let precision = self.order.bits_precision();
        let in_range = |value: &BoxedUint| !bool::from(value.is_zero()) && *value < self.order;
        let (Some(r), Some(s)) = (integer(r, precision), integer(s, precision)) else {
            return false;
        };
        if !in_range(&r) || !in_range(&s) {
            return false;
        }
        let Some(e) = self.digest_scalar(digest) else {
            return false;
        };
        let two = BoxedUint::from_be_slice(&[2], precision).ok();
        let Some(exponent) = two.map(|two| self.order.wrapping_sub(&two)) else {
            return false;
        };
        let modular = |value: &BoxedUint| BoxedMontyForm::new(value.clone(), &self.order_field);
        let w = modular(&s).pow(&exponent);
        let u1 = (&modular(&e) * &w).retrieve();
        let u2 = (&modular(&r) * &w).retrieve();

        // Shamir's trick: one pass over the bits of u1 and u2.
        let generator = self.lift(&self.generator);
        let public = self.lift(public);
        let both = self.add(&generator, &public);
        let mut sum = self.infinity();
        for bit in (0..self.order.bit_width_vartime()).rev() {
            sum = self.double(&sum);
            match (u1.bit_vartime(bit), u2.bit_vartime(bit)) {
                (true, true) => sum = self.add(&sum, &both),
                (true, false) => sum = self.add(&sum, &generator),
                (false, true) => sum = self.add(&sum, &public),
                (false, false) => {}
            }
        }
        if sum.z == self.zero() {
            return false;
        }
        let p_minus_two = match BoxedUint::from_be_slice(&[2], self.prime.bits_precision()) {
            Ok(two) => self.prime.wrapping_sub(&two),
            Err(_) => return false,
        };
        let z_inverse = sum.z.pow(&p_minus_two);
        let x = (&sum.x * &z_inverse.square()).retrieve();
        let Some(order) = NonZero::new(self.order.clone()).into_option() else {
            return false;
        };
        x.rem_vartime(&order) == r
    }

    /// The digest's leftmost order-bits as an integer, reduced mod n (bits2int, then mod n).
    fn digest_scalar(&self, digest: &[u8]) -> Option<BoxedUint> {
        let order_bits = self.order.bit_width_vartime();
        let keep = usize::try_from(order_bits.div_ceil(8)).ok()?;
        let kept = &digest[..digest.len().min(keep)];
        let mut value = BoxedUint::from_be_slice_vartime(if kept.is_empty() { &[0] } else { kept });
        let kept_bits = u32::try_from(kept.len() * 8).ok()?;
        if kept_bits > order_bits {
            value = value.shr_vartime(kept_bits - order_bits)?;
        }
        let order = NonZero::new(self.order.clone()).into_option()?;
        Some(value.rem_vartime(&order))
    }
}
