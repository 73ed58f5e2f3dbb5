using System.Globalization;

namespace Engine.Kernels.Native;

/// <summary>One CUDA device as the driver describes it, read without creating a context.</summary>
public sealed record CudaDeviceInfo(
    int Ordinal,
    string Name,
    int ComputeCapabilityMajor,
    int ComputeCapabilityMinor,
    int Multiprocessors,
    int MaxThreadsPerBlock,
    int WarpSize,
    int SharedMemoryPerBlock,
    long TotalMemoryBytes)
{
    /// <summary>"sm_90".</summary>
    public string Architecture => $"sm_{ComputeCapabilityMajor}{ComputeCapabilityMinor}";

    /// <summary>"device 0: NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB, 1024 threads/block, warp 32, 48 KiB shared/block".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"device {Ordinal}: {Name}, {Architecture}, {Multiprocessors} SMs, {TotalMemoryBytes / (double)(1L << 30):F1} GiB, " +
        $"{MaxThreadsPerBlock} threads/block, warp {WarpSize}, {SharedMemoryPerBlock / 1024} KiB shared/block");
}

/// <summary>
/// What <see cref="CudaProbe.Probe"/> found. <see cref="Usable"/> is true only when the driver initialised, saw at
/// least one device, and cuBLAS and NVRTC loaded, since the CUDA backend needs both; otherwise <see cref="Reason"/>
/// says in one sentence what is missing.
/// </summary>
public sealed record CudaProbeResult(
    bool Usable,
    string? Reason,
    int DriverVersion,
    IReadOnlyList<CudaDeviceInfo> Devices,
    string? CublasVersion,
    string? NvrtcVersion,
    IReadOnlyList<string> Notes,
    string Trace)
{
    /// <summary>The driver's CUDA version, "12.4", or null when no driver answered.</summary>
    public string? DriverVersionText => DriverVersion > 0 ? FormatCudaVersion(DriverVersion) : null;

    /// <summary>One line: the devices and libraries when usable, else the reason.</summary>
    public string Summary => Usable
        ? $"{Devices.Count} CUDA device{(Devices.Count == 1 ? "" : "s")}, driver CUDA {DriverVersionText}, cuBLAS {CublasVersion}, NVRTC {NvrtcVersion}"
        : $"no usable GPU: {Reason}";

    /// <summary>What <c>sea info</c> prints: the summary, a line per device, and any notes (not the trace).</summary>
    public IEnumerable<string> DescribeLines()
    {
        yield return Summary;
        foreach (var device in Devices)
            yield return device.ToString();
        foreach (var note in Notes)
            yield return $"note: {note}";
    }

    /// <summary>12040 → "12.4" (CUDA versions are major·1000 + minor·10).</summary>
    internal static string FormatCudaVersion(int version) =>
        string.Create(CultureInfo.InvariantCulture, $"{version / 1000}.{version % 1000 / 10}");
}

/// <summary>
/// Finds out, without ever throwing, whether this machine can run the CUDA backend: loads the driver, initialises it,
/// counts and describes the devices, and loads cuBLAS and NVRTC to read their versions. Creates no context, so it costs
/// milliseconds and no device memory.
/// </summary>
public static class CudaProbe
{
    /// <summary>Probes afresh. Never throws: whatever goes wrong becomes the result's reason.</summary>
    public static CudaProbeResult Probe()
    {
        try
        {
            return ProbeOrThrow();
        }
        catch (Exception e)
        {
            return new(false, $"probing CUDA failed unexpectedly: {e.GetType().Name}: {e.Message}", 0, [], null, null, [], SafeTrace());
        }
    }

    private static CudaProbeResult ProbeOrThrow()
    {
        var notes = new List<string>();
        CudaProbeResult NotUsable(string reason, int driverVersion = 0, IReadOnlyList<CudaDeviceInfo>? devices = null) =>
            new(false, reason, driverVersion, devices ?? [], null, null, notes, SafeTrace());

        if (!OperatingSystem.IsLinux())
            return NotUsable($"the CUDA backend runs on Linux only, and this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

        const string driver = CudaLibraries.DriverLibrary;
        if (!CudaLibraries.TryLoad(driver, out _))
            return NotUsable($"no NVIDIA driver: {CudaLibraries.NotFoundPhrase(driver)}");
        var missing = CudaLibraries.MissingExports(driver, typeof(Driver));
        if (missing.Count > 0)
            return NotUsable($"the NVIDIA driver at {CudaLibraries.LoadedFrom(driver)} is too old for this engine: it lacks {string.Join(", ", missing)}");

        var init = Driver.cuInit(0);
        if (init != CUresult.CUDA_SUCCESS)
            return NotUsable(InitFailure(init));

        int version = 0;
        unsafe { CudaException.Check(Driver.cuDriverGetVersion(&version)); }

        int count = 0;
        unsafe { CudaException.Check(Driver.cuDeviceGetCount(&count)); }
        if (count == 0)
            return NotUsable($"the driver found no CUDA device{VisibleDevicesHint()}", version);

        var devices = new List<CudaDeviceInfo>(count);
        for (int ordinal = 0; ordinal < count; ordinal++)
            devices.Add(Describe(ordinal));

        // The libraries: every one is looked for, so the reason can name all that are missing at once.
        var absent = new List<string>();
        string? cublas = LibraryVersion(CudaLibraries.CublasLibrary, typeof(Cublas), Cublas.Version, absent);
        string? nvrtc = LibraryVersion(CudaLibraries.NvrtcLibrary, typeof(Nvrtc), () =>
        {
            var (major, minor) = Nvrtc.Version();
            return string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}");
        }, absent);

        // cuBLAS's major version is the CUDA major it was built for, and a library built for a later CUDA major than the
        // driver's fails in cublasCreate; the resolver tries .13 before .12, so say which to pick instead.
        if (cublas is not null && MajorOf(cublas) is int cublasMajor && cublasMajor > version / 1000)
        {
            absent.Add($"cuBLAS {cublas} at {CudaLibraries.LoadedFrom(CudaLibraries.CublasLibrary)} needs a driver for CUDA {cublasMajor} or later, " +
                       $"and this driver is CUDA {CudaProbeResult.FormatCudaVersion(version)}: set SEA_LIBCUBLAS to a libcublas.so.{version / 1000}");
        }
        if (nvrtc is not null && NvrtcNewerThanDriver(nvrtc, version))
            notes.Add($"NVRTC {nvrtc} is newer than the driver's CUDA {CudaProbeResult.FormatCudaVersion(version)}: the driver may refuse " +
                      "its PTX (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), so compile a CUBIN for the device's sm_XX; if that is refused too, " +
                      "set SEA_LIBNVRTC to the NVRTC of the driver's CUDA version");
        if (absent.Count > 0)
            return new(false, string.Join("; ", absent), version, devices, cublas, nvrtc, notes, SafeTrace());
        return new(true, null, version, devices, cublas, nvrtc, notes, SafeTrace());
    }

    private static CudaDeviceInfo Describe(int ordinal)
    {
        CUdevice device;
        unsafe { CudaException.Check(Driver.cuDeviceGet(&device, ordinal)); }
        nuint bytes;
        unsafe { CudaException.Check(Driver.cuDeviceTotalMem_v2(&bytes, device)); }
        return new(
            ordinal,
            Driver.DeviceName(device),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_WARP_SIZE),
            Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
            (long)bytes);
    }

    /// <summary>
    /// The version of one library, or null after adding to <paramref name="absent"/> why it cannot be used.
    /// </summary>
    private static string? LibraryVersion(string logical, Type bindings, Func<string> version, List<string> absent)
    {
        string display = CudaLibraries.DisplayName(logical);
        if (!CudaLibraries.TryLoad(logical, out _))
        {
            absent.Add($"{display} not found: {CudaLibraries.NotFoundPhrase(logical)}");
            return null;
        }
        var missing = CudaLibraries.MissingExports(logical, bindings);
        if (missing.Count > 0)
        {
            absent.Add($"{display} at {CudaLibraries.LoadedFrom(logical)} is too old for this engine: it lacks {string.Join(", ", missing)}");
            return null;
        }
        try
        {
            return version();
        }
        catch (CudaException e)
        {
            absent.Add($"{display} at {CudaLibraries.LoadedFrom(logical)} did not report its version: {e.Message}");
            return null;
        }
    }

    private static string InitFailure(CUresult result)
    {
        string name = Driver.ErrorName(result) ?? result.ToString();
        string detail = Driver.ErrorString(result) is { Length: > 0 } text ? $" ({text})" : "";
        return result switch
        {
            CUresult.CUDA_ERROR_NO_DEVICE => $"the driver found no CUDA device (cuInit: {name}){VisibleDevicesHint()}",
            CUresult.CUDA_ERROR_STUB_LIBRARY =>
                $"{CudaLibraries.LoadedFrom(CudaLibraries.DriverLibrary)} is the toolkit's stub of libcuda, not an NVIDIA driver (cuInit: {name})",
            _ => $"the NVIDIA driver at {CudaLibraries.LoadedFrom(CudaLibraries.DriverLibrary)} did not initialise: cuInit returned {name}{detail}",
        };
    }

    private static string VisibleDevicesHint() =>
        Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { } visible ? $" (CUDA_VISIBLE_DEVICES={visible})" : "";

    private static int? MajorOf(string version) =>
        int.TryParse(version.Split('.')[0], CultureInfo.InvariantCulture, out int major) ? major : null;

    /// <summary>Whether NVRTC's "major.minor" is a later CUDA than the driver's version number.</summary>
    private static bool NvrtcNewerThanDriver(string nvrtc, int driverVersion)
    {
        var parts = nvrtc.Split('.');
        if (parts.Length < 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int major)
                              || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int minor))
            return false;
        return major * 1000 + minor * 10 > driverVersion;
    }

    private static string SafeTrace()
    {
        try
        {
            return CudaLibraries.Trace();
        }
        catch (Exception e)
        {
            return $"(the resolver's trace could not be read: {e.GetType().Name}: {e.Message})";
        }
    }
}
