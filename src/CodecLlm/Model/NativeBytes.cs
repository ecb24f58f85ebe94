using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace CodecLlm.Model;

/// <summary>
/// A region of bytes that stays at one address for its lifetime: a memory-mapped file or a native allocation.
/// Tensors point into one of these, so a checkpoint is read through the page cache without a second copy.
/// </summary>
public abstract unsafe class NativeBytes : IDisposable
{
    public abstract byte* Pointer { get; }

    public abstract long Length { get; }

    public ReadOnlySpan<byte> Slice(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, {offset + length}) outside a buffer of {Length} bytes");
        if (length > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(length), $"{length} bytes do not fit one span; use the pointer");
        return new ReadOnlySpan<byte>(Pointer + offset, (int)length);
    }

    public abstract void Dispose();
}

/// <summary>A read-only memory-mapped file.</summary>
public sealed unsafe class MappedFile : NativeBytes
{
    private readonly MemoryMappedFile? _mmf;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _ptr;
    private readonly long _length;

    public MappedFile(string path)
    {
        Path = path;
        FileInfo info = new(path);
        if (!info.Exists) throw new ModelFormatException($"{path}: file not found");
        _length = info.Length;
        if (_length == 0) return;
        try
        {
            _mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _ptr = p + _view.PointerOffset;
        }
        catch (IOException e)
        {
            throw new ModelFormatException($"{path}: cannot map file: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ModelFormatException($"{path}: cannot map file: {e.Message}", e);
        }
    }

    public string Path { get; }

    public override byte* Pointer => _ptr;

    public override long Length => _length;

    public override void Dispose()
    {
        if (_view != null && _ptr != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _ptr = null;
        }
        _view?.Dispose();
        _mmf?.Dispose();
    }
}

/// <summary>A 64-byte-aligned native allocation (synthetic models, decoded tensors).</summary>
public sealed unsafe class NativeBuffer : NativeBytes
{
    private byte* _ptr;
    private readonly long _length;

    public NativeBuffer(long length, bool zero = true)
    {
        _length = length;
        _ptr = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), 64);
        if (zero) NativeMemory.Clear(_ptr, (nuint)Math.Max(length, 1));
    }

    public static NativeBuffer CopyOf(ReadOnlySpan<byte> data)
    {
        NativeBuffer b = new(data.Length, zero: false);
        data.CopyTo(b.Span);
        return b;
    }

    public Span<byte> Span => new(_ptr, checked((int)_length));

    public override byte* Pointer => _ptr;

    public override long Length => _length;

    public override void Dispose()
    {
        if (_ptr != null)
        {
            NativeMemory.AlignedFree(_ptr);
            _ptr = null;
        }
    }
}
