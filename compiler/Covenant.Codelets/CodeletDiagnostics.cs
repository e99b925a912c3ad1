using Covenant.Core.Diagnostics;

namespace Covenant.Codelets;

/// <summary>
/// Every diagnostic the codelet stages report. Ids are stable: COV2xxx for syntax, COV3xxx for checking
/// and instantiation. Tests and users match on them, so never renumber; retire an id instead.
/// </summary>
public static class CodeletDiagnostics
{
    // ---- Syntax (COV2xxx) ----

    /// <summary>The text does not follow the grammar; the message says what was expected and what was found.</summary>
    public static readonly DiagnosticDescriptor SyntaxError = new("COV2001", "syntax error");

    /// <summary>An integer literal beyond 64 bits or a float literal beyond the double range.</summary>
    public static readonly DiagnosticDescriptor LiteralTooLarge = new("COV2002", "literal too large");

    /// <summary>Parentheses and brackets nested deeper than <see cref="Parsing.CodeletParser.MaxNesting"/>.</summary>
    public static readonly DiagnosticDescriptor NestingTooDeep = new("COV2003", "nesting too deep");

    /// <summary>An expression tree deeper than <see cref="Parsing.CodeletParser.MaxExpressionDepth"/> (a very long chain of operators).</summary>
    public static readonly DiagnosticDescriptor ExpressionTooComplex = new("COV2004", "expression too complex");

    // ---- Checking (COV30xx) ----

    public static readonly DiagnosticDescriptor UnknownName = new("COV3001", "unknown name");
    public static readonly DiagnosticDescriptor DuplicateName = new("COV3002", "duplicate name");

    /// <summary>Indexing something that is not a tensor: <c>N[i]</c>.</summary>
    public static readonly DiagnosticDescriptor NotATensor = new("COV3003", "not a tensor");

    /// <summary>A tensor used as a scalar: <c>a</c> instead of <c>a[i]</c>.</summary>
    public static readonly DiagnosticDescriptor TensorWithoutIndices = new("COV3004", "tensor used without indices");

    /// <summary>A tensor indexed with the wrong number of indices.</summary>
    public static readonly DiagnosticDescriptor WrongIndexCount = new("COV3005", "wrong number of indices");

    /// <summary>Operands or arguments of incompatible types (integer with float, shift of a float).</summary>
    public static readonly DiagnosticDescriptor TypeMismatch = new("COV3006", "type mismatch");

    /// <summary>A value stored into a narrower (or differently signed, or int/float) target without a cast.</summary>
    public static readonly DiagnosticDescriptor ImplicitConversion = new("COV3007", "conversion needs a cast");

    /// <summary>A statement assigns to an input tensor.</summary>
    public static readonly DiagnosticDescriptor AssignToInput = new("COV3008", "assignment to an input");

    /// <summary>An index that is not an affine function of the loop variables.</summary>
    public static readonly DiagnosticDescriptor NonAffineIndex = new("COV3009", "index is not affine");

    /// <summary>A shape expression (dimension, default, derived size, loop extent) that uses something other than integers and shape names.</summary>
    public static readonly DiagnosticDescriptor NotAShapeExpression = new("COV3010", "not a shape expression");

    /// <summary>A loop variable with no <c>in EXTENT</c> that never appears alone as an index.</summary>
    public static readonly DiagnosticDescriptor ExtentNotInferable = new("COV3011", "loop extent not inferable");

    /// <summary>A built-in function called with the wrong number of arguments.</summary>
    public static readonly DiagnosticDescriptor WrongArgumentCount = new("COV3012", "wrong number of arguments");

    /// <summary><c>/</c> or <c>%</c> applied to a loop- or tensor-dependent value.</summary>
    public static readonly DiagnosticDescriptor DivisionOfValue = new("COV3013", "division of a value");

    /// <summary>An integer literal in a value expression that does not fit i32.</summary>
    public static readonly DiagnosticDescriptor LiteralOutOfRange = new("COV3014", "literal out of range");

    /// <summary>A default or derived size that refers to a name declared after it (or to itself).</summary>
    public static readonly DiagnosticDescriptor ForwardReference = new("COV3015", "reference to a later declaration");

    /// <summary><c>cropped</c> on an input, which is never written.</summary>
    public static readonly DiagnosticDescriptor ModifierNotApplicable = new("COV3016", "modifier not applicable");

    /// <summary>An output no statement writes.</summary>
    public static readonly DiagnosticDescriptor OutputNeverWritten = new("COV3017", "output never written");

    // ---- Instantiation (COV31xx): depend on the bound shape values ----

    public static readonly DiagnosticDescriptor MissingBinding = new("COV3101", "missing shape binding");
    public static readonly DiagnosticDescriptor UnknownBinding = new("COV3102", "unknown shape binding");

    /// <summary>A derived size, tensor dimension or loop extent below 1.</summary>
    public static readonly DiagnosticDescriptor SizeNotPositive = new("COV3103", "size not positive");

    public static readonly DiagnosticDescriptor DivisionByZero = new("COV3104", "division by zero");

    /// <summary>A shape computation that overflows 64 bits, or a value that must fit 32 bits and does not.</summary>
    public static readonly DiagnosticDescriptor ShapeOverflow = new("COV3105", "shape value too large");

    /// <summary>A tensor with more than <see cref="Semantics.CheckedCodelet.MaxTensorElements"/> elements.</summary>
    public static readonly DiagnosticDescriptor TensorTooLarge = new("COV3106", "tensor too large");

    /// <summary>A loop variable whose extent is inferred from several dimensions that disagree.</summary>
    public static readonly DiagnosticDescriptor InconsistentExtents = new("COV3107", "inconsistent loop extents");

    /// <summary>An index that leaves its dimension (and the tensor is not <c>padded</c>/<c>cropped</c>).</summary>
    public static readonly DiagnosticDescriptor IndexOutOfBounds = new("COV3108", "index out of bounds");
}
